// Weights files in the safetensors format (https://github.com/huggingface/safetensors),
// which PyTorch, JAX and numpy tools read directly:
//
//   [8 bytes]  N, the header length, little-endian u64
//   [N bytes]  UTF-8 JSON, padded with spaces to a multiple of 8:
//              {"__metadata__": {"key": "value", ...},
//               "0.weight": {"dtype": "F32", "shape": [32, 3, 3, 3], "data_offsets": [0, 3456]}, ...}
//   [rest]     the tensors' raw little-endian bytes; data_offsets are [begin, end)
//              relative to the start of this section, and the tensors must tile
//              it exactly (no gaps, no overlap), as the reference reader requires.
//
// Only F32 is supported for now. Reading is defensive: every size and offset is
// checked before it is used, and every error (std::runtime_error) names the file.
// Writing is atomic: a crash or a full disk leaves the previous file intact.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "net/sequential.h"
#include "tensor/tensor.h"

namespace radius {

// Headers larger than this are refused before being read (the reference
// implementation's limit: 100 MB).
constexpr uint64_t kMaxSafetensorsHeader = 100'000'000;

struct SafetensorsFile {
  std::map<std::string, Tensor> tensors;  // CPU tensors, by name
  std::map<std::string, std::string> metadata;
};

// Tensor names must be unique, non-empty and not "__metadata__". Tensors must be
// on the CPU: a GPU tensor is refused (no hidden per-tensor copies); download the
// flat buffer once instead (host_named_tensors).
void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {});
SafetensorsFile read_safetensors(const std::string& path);
// The metadata alone: the file is checked as read_safetensors checks it, the tensor
// data is not read (finding a weights file's spec costs its header, not its megabytes).
std::map<std::string, std::string> read_safetensors_metadata(const std::string& path);

// The model's named parameters ("0.weight", ...) then its named state buffers
// ("1.running_mean", ...) as CPU tensors: for a CPU model its own views; for a GPU
// model views of ONE explicit download of each flat buffer (named_params() tiles
// params() back to back, in order; named_buffers() tiles state()).
std::vector<std::pair<std::string, Tensor>> host_named_tensors(const Sequential& model);

// Every named parameter and state buffer ("0.weight", "0.bias", "1.running_mean",
// ...) of an init()ed model, on any device (a GPU model: one download per flat buffer).
void save_weights(const Sequential& model, const std::string& path,
                  const std::map<std::string, std::string>& metadata = {});
// Loads into an init()ed model. The file must hold exactly the model's tensors
// (parameters and state buffers),
// each with the model's shape, as F32; otherwise nothing is changed and the
// error lists every problem (missing, unexpected, and mismatched shapes).
void load_weights(Sequential& model, const std::string& path);
// The same from a file already read; tensors whose names start with
// `foreign_prefix` (e.g. "optimizer." in a checkpoint) are not the model's and
// are ignored.
void load_weights(Sequential& model, const SafetensorsFile& file, const std::string& path,
                  const std::string& foreign_prefix = "");

}  // namespace radius
