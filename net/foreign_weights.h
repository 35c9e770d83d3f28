// Weights that travel to and from PyTorch and Keras, as safetensors files
// (net/safetensors.h), which both read (safetensors.torch / safetensors.numpy).
//
//  torch  The state_dict of the equivalent torch.nn.Sequential: a spec's layers
//         are nn.Sequential's modules in the same order (an activation= key is a
//         module of its own, as here), so the keys are Radius's own ("0.weight",
//         "4.running_var") and so are the layouts (Conv2d [out, in, kh, kw],
//         Linear [out, in]). BatchNorm2d's num_batches_tracked (an int64 counter
//         that inference never reads) is not written; load with strict=False.
//  keras  "<layer index>.<Keras variable>" ("0.kernel", "4.moving_variance") in
//         Keras' layouts, from each kind's registry entry (layers/export.h): Conv2D
//         kernels [kh, kw, in, out], Dense kernels [in, out], and the first Dense
//         after a Flatten with its rows in Keras' (h, w, c) flatten order, so the
//         twin Keras model takes NHWC images and needs no Permute layer.
//
// The file's "layout" metadata names the layout; import reads either (from that
// key, else from the names) back into a model built from its spec.
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "net/safetensors.h"
#include "net/sequential.h"

namespace radius {

enum class WeightLayout { torch, keras };
std::string layout_name(WeightLayout layout);  // "torch", "keras"

// The model's parameters and state buffers under the layout's names, as new CPU tensors.
std::vector<std::pair<std::string, Tensor>> foreign_tensors(const Sequential& model, WeightLayout layout);
// foreign_tensors written to `path`, with metadata "layout" and what the layout is, plus `metadata`.
void export_foreign_weights(const Sequential& model, WeightLayout layout, const std::string& path,
                            const std::map<std::string, std::string>& metadata = {});

// The layout of a file: its "layout" metadata, else "kernel"/"gamma"/"moving_*" names
// mean keras, anything else torch.
WeightLayout detect_layout(const SafetensorsFile& file);
// The file's tensors under Radius's names and layouts for `model` (torch: as they are;
// keras: renamed and transposed back). Throws std::runtime_error naming `path` and
// the tensor for a name the model's layers do not have.
SafetensorsFile radius_tensors(const Sequential& model, const SafetensorsFile& file, WeightLayout layout,
                               const std::string& path);
// Reads a file of either layout into an init()ed model (net/safetensors.h's
// load_weights checks that every tensor is there with its shape); returns the layout.
WeightLayout import_foreign_weights(Sequential& model, const std::string& path);

}  // namespace radius
