// Model spec files: a small text format that describes a Sequential model, one
// layer per line (the format is documented in models/README.md):
//
//   input height=150 width=150 channels=3
//   conv2d filters=32 kernel=3 activation=relu
//   maxpool2d pool=2
//   flatten
//   dense units=1 activation=sigmoid
//
// "activation=relu" on a conv2d/dense line adds a separate ReLU layer after it,
// so layer indices (and parameter names "i.weight") match a PyTorch
// nn.Sequential written out the same way.
//
// Every error is a std::invalid_argument whose message starts "<source>:<line>: "
// and says what is wrong; nothing is allocated for parameters (call init()).
#pragma once
#include <memory>
#include <string>

#include "net/sequential.h"

namespace radius {

// `source_name` is only used in error messages (a file name, or e.g. "<string>").
std::unique_ptr<Sequential> parse_model_spec(const std::string& text, const std::string& source_name);

// Reads and parses a spec file; throws std::runtime_error naming the path if it
// cannot be read.
std::unique_ptr<Sequential> load_model_spec(const std::string& path);

}  // namespace radius
