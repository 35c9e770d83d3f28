#include "net/safetensors.h"

#include "io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <tuple>

namespace radius {

// Tensor bytes and the header length go to and from the file as they are in memory.
static_assert(std::endian::native == std::endian::little, "safetensors is little-endian; add byte swapping here");

namespace {

using json = nlohmann::json;

// Shape dimensions above this are refused as corrupt before any arithmetic.
constexpr uint64_t kMaxFileDim = uint64_t(1) << 40;

[[noreturn]] void fail(const std::string& path, const std::string& why) {
  throw std::runtime_error("safetensors file '" + path + "': " + why);
}
[[noreturn]] void fail_errno(const std::string& path, const std::string& what) {
  fail(path, what + ": " + std::strerror(errno));
}

// ---- writing --------------------------------------------------------------------

// The JSON header, padded with spaces to a multiple of 8 bytes so the data
// section starts 8-aligned (as the reference writer does). Tensors are laid out
// back to back in the order given.
std::string make_header(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                        const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json h = nlohmann::ordered_json::object();
  if (!metadata.empty()) h["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    if (name.empty() || name == "__metadata__") fail(path, "invalid tensor name '" + name + "'");
    if (h.contains(name)) fail(path, "duplicate tensor name '" + name + "'");
    std::vector<int64_t> shape;
    for (int i = 0; i < t.rank(); ++i) shape.push_back(t.dim(i));
    const uint64_t bytes = uint64_t(t.numel()) * sizeof(float);
    h[name] = {{"dtype", "F32"}, {"shape", shape}, {"data_offsets", json::array({offset, offset + bytes})}};
    offset += bytes;
  }
  std::string s;
  try {
    s = h.dump();
  } catch (const json::exception& e) {  // e.g. a name or metadata value that is not valid UTF-8
    fail(path, std::string("cannot encode the header: ") + e.what());
  }
  s.append((8 - s.size() % 8) % 8, ' ');
  return s;
}

// ---- reading --------------------------------------------------------------------

struct Entry {
  std::string name;
  Shape shape;
  uint64_t begin = 0, end = 0;  // byte range in the data section
};

void read_exact(FILE* f, void* dst, size_t bytes, const std::string& path) {
  if (std::fread(dst, 1, bytes, f) == bytes) return;
  if (std::ferror(f)) fail_errno(path, "read error");
  fail(path, "file ended early (did it change while being read?)");
}

uint64_t unsigned_or_fail(const json& v, const std::string& path, const std::string& what) {
  if (!v.is_number_unsigned()) fail(path, what + " must be non-negative integers, got " + v.dump());
  return v.get<uint64_t>();
}

// One tensor entry: {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}.
Entry parse_entry(const std::string& path, const std::string& name, const json& v, uint64_t data_size) {
  const std::string what = "tensor '" + name + "'";
  if (!v.is_object()) fail(path, what + ": entry is not a JSON object");
  for (const auto& [key, _] : v.items())
    if (key != "dtype" && key != "shape" && key != "data_offsets") fail(path, what + ": unexpected field '" + key + "'");
  if (!v.contains("dtype") || !v["dtype"].is_string()) fail(path, what + ": missing string field 'dtype'");
  if (!v.contains("shape") || !v["shape"].is_array()) fail(path, what + ": missing array field 'shape'");
  if (!v.contains("data_offsets") || !v["data_offsets"].is_array() || v["data_offsets"].size() != 2)
    fail(path, what + ": 'data_offsets' must be [begin, end]");

  const std::string dtype = v["dtype"].get<std::string>();
  if (dtype != "F32") fail(path, what + ": dtype " + dtype + " is not supported (only F32)");

  const json& dims = v["shape"];
  if (dims.size() > size_t(Shape::kMaxRank))
    fail(path, what + ": rank " + std::to_string(dims.size()) + " is not supported (at most 4)");
  Entry e{name, Shape{}, 0, 0};
  uint64_t bytes = sizeof(float);
  for (size_t i = dims.size(); i-- > 0;) {  // innermost first: with_batch() prepends a dimension
    const uint64_t d = unsigned_or_fail(dims[i], path, what + ": shape dimensions");
    if (d > kMaxFileDim) fail(path, what + ": shape dimension " + std::to_string(d) + " is absurdly large");
    bytes = (d != 0 && bytes > UINT64_MAX / 2 / d) ? UINT64_MAX / 2 : bytes * d;  // saturates: caught below
    e.shape = e.shape.with_batch(int64_t(d));
  }
  e.begin = unsigned_or_fail(v["data_offsets"][0], path, what + ": data_offsets");
  e.end = unsigned_or_fail(v["data_offsets"][1], path, what + ": data_offsets");
  const std::string range = "[" + std::to_string(e.begin) + ", " + std::to_string(e.end) + ")";
  if (e.begin > e.end) fail(path, what + ": data_offsets " + range + " end before they begin");
  if (e.end > data_size)
    fail(path, what + ": data_offsets " + range + " run past the " + std::to_string(data_size) +
                   "-byte data section (truncated file?)");
  if (e.end - e.begin != bytes)
    fail(path, what + ": shape " + e.shape.str() + " as F32 needs " + std::to_string(bytes) +
                   " bytes but data_offsets " + range + " span " + std::to_string(e.end - e.begin));
  return e;
}

std::map<std::string, std::string> parse_metadata(const std::string& path, const json& v) {
  if (!v.is_object()) fail(path, "__metadata__ is not a JSON object");
  std::map<std::string, std::string> m;
  for (const auto& [key, value] : v.items()) {
    if (!value.is_string()) fail(path, "__metadata__ value for '" + key + "' is not a string");
    m[key] = value.get<std::string>();
  }
  return m;
}

}  // namespace

void write_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  for (const auto& [name, t] : tensors)
    if (t.defined() && !t.is_cpu())
      fail(path, "tensor '" + name + "' is on the GPU; download the model's flat buffer once first "
                 "(host_named_tensors), write_safetensors makes no copies");
  const std::string header = make_header(path, tensors, metadata);
  AtomicFile out(path);  // readers see the old file or the new one, never half of one
  const uint64_t n = header.size();
  out.write(&n, sizeof n);
  out.write(header.data(), n);
  for (const auto& [name, t] : tensors) {
    out.write(t.cpu(), size_t(t.numel()) * sizeof(float));
  }
  out.commit();
}

namespace {

// The whole file checked (header, entries tiling the data section); the tensors read
// only when `with_tensors`.
SafetensorsFile read_file(const std::string& path, bool with_tensors) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) fail_errno(path, "cannot open");
  FILE* f = file.get();
  struct stat st {};
  if (::fstat(::fileno(f), &st) != 0) fail_errno(path, "cannot stat");
  if (!S_ISREG(st.st_mode)) fail(path, "not a regular file");
  const uint64_t size = uint64_t(st.st_size);

  // [8 bytes: header length N][N bytes: JSON header][data section]
  if (size < 8) fail(path, "file is " + std::to_string(size) + " bytes, too short for the 8-byte header length");
  uint64_t n = 0;
  read_exact(f, &n, sizeof n, path);
  if (n > kMaxSafetensorsHeader)
    fail(path, "header length " + std::to_string(n) + " exceeds the limit of " +
                   std::to_string(kMaxSafetensorsHeader) + " bytes (corrupt file?)");
  if (n > size - 8)
    fail(path, "header length " + std::to_string(n) + " runs past the end of the " + std::to_string(size) +
                   "-byte file (truncated?)");
  std::string text(n, '\0');
  read_exact(f, text.data(), n, path);
  const uint64_t data_size = size - 8 - n;

  json header;
  try {
    header = json::parse(text);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for a number like 1e444
    fail(path, std::string("header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) fail(path, "header is not a JSON object");

  SafetensorsFile out;
  std::vector<Entry> entries;
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__")
      out.metadata = parse_metadata(path, value);
    else
      entries.push_back(parse_entry(path, name, value, data_size));
  }

  // The tensors must tile the data section exactly: sorted by offset, each one
  // begins where the previous one ended, and the last ends at the end of file.
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return std::tie(a.begin, a.end) < std::tie(b.begin, b.end); });
  uint64_t pos = 0;
  for (const Entry& e : entries) {
    if (e.begin < pos)
      fail(path, "tensor '" + e.name + "' data_offsets begin at " + std::to_string(e.begin) +
                     ", overlapping the previous tensor, which ends at " + std::to_string(pos));
    if (e.begin > pos)
      fail(path, "bytes [" + std::to_string(pos) + ", " + std::to_string(e.begin) +
                     ") of the data section belong to no tensor (before '" + e.name + "')");
    pos = e.end;
  }
  if (pos != data_size)
    fail(path, "the data section is " + std::to_string(data_size) + " bytes but the tensors cover " +
                   std::to_string(pos));

  // The file position is now at the data section, and entries are in file order.
  if (with_tensors)
    for (const Entry& e : entries) {
      Tensor t = Tensor::empty(e.shape);
      read_exact(f, t.cpu(), size_t(e.end - e.begin), path);
      out.tensors.emplace(e.name, std::move(t));
    }
  return out;
}

}  // namespace

SafetensorsFile read_safetensors(const std::string& path) { return read_file(path, true); }

std::map<std::string, std::string> read_safetensors_metadata(const std::string& path) {
  return read_file(path, false).metadata;
}

namespace {

// Views of one host copy of `flat` (itself for a CPU tensor), one per entry, in order.
template <class Named>
void append_host_views(const Tensor& flat, const std::vector<Named>& named,
                       std::vector<std::pair<std::string, Tensor>>& out) {
  if (named.empty()) return;
  const Tensor host = flat.is_cpu() ? flat : flat.to(Device::cpu);  // the one explicit download
  int64_t offset = 0;
  for (const Named& p : named) {
    out.emplace_back(p.name, host.slice(offset, p.value.shape()));
    offset += p.value.numel();
  }
  if (offset != flat.numel())
    throw std::logic_error("host_named_tensors: the named tensors do not tile their flat buffer");
}

// Every tensor the model saves and loads by name: parameters, then state buffers.
std::vector<std::pair<std::string, Tensor>> named_views(const Sequential& model) {
  std::vector<std::pair<std::string, Tensor>> out;
  for (const NamedParam& p : model.named_params()) out.emplace_back(p.name, p.value);
  for (const NamedBuffer& b : model.named_buffers()) out.emplace_back(b.name, b.value);
  return out;
}

}  // namespace

std::vector<std::pair<std::string, Tensor>> host_named_tensors(const Sequential& model) {
  std::vector<std::pair<std::string, Tensor>> out;
  append_host_views(model.params(), model.named_params(), out);
  append_host_views(model.state(), model.named_buffers(), out);
  return out;
}

void save_weights(const Sequential& model, const std::string& path, const std::map<std::string, std::string>& metadata) {
  if (model.num_params() > 0 && model.named_params().empty())
    throw std::logic_error("save_weights('" + path + "'): the model has no parameters yet; call init() first");
  write_safetensors(path, host_named_tensors(model), metadata);
}

void load_weights(Sequential& model, const std::string& path) {
  if (model.num_params() > 0 && model.named_params().empty())
    throw std::logic_error("load_weights('" + path + "'): the model has no parameters yet; call init() first");
  load_weights(model, read_safetensors(path), path);
}

void load_weights(Sequential& model, const SafetensorsFile& file, const std::string& path,
                  const std::string& foreign_prefix) {
  if (model.num_params() > 0 && model.named_params().empty())
    throw std::logic_error("load_weights('" + path + "'): the model has no parameters yet; call init() first");

  // Check everything before changing anything, and report every problem at once.
  std::string problems;
  auto problem = [&](const std::string& p) { problems += (problems.empty() ? "" : "; ") + p; };
  std::set<std::string> expected;
  const auto model_tensors = named_views(model);
  for (const auto& [name, value] : model_tensors) {
    expected.insert(name);
    const auto it = file.tensors.find(name);
    if (it == file.tensors.end())
      problem("missing tensor '" + name + "' (the model's is " + value.shape().str() + ")");
    else if (!(it->second.shape() == value.shape()))
      problem("tensor '" + name + "' has shape " + it->second.shape().str() + " in the file but " +
              value.shape().str() + " in the model");
  }
  for (const auto& [name, t] : file.tensors)
    if (!expected.count(name) && (foreign_prefix.empty() || name.rfind(foreign_prefix, 0) != 0)) problem("unexpected tensor '" + name + "' " + t.shape().str() + " (not in the model)");
  if (!problems.empty()) fail(path, "does not match the model: " + problems);
  // A NaN or an infinity in a weight is silent downstream (a ReLU maps NaN to 0 here and
  // there): refuse it where it enters, naming the tensor and the first such element.
  for (const auto& [name, value] : model_tensors) {
    const Tensor& src = file.tensors.at(name);
    const float* v = src.cpu();
    for (int64_t i = 0; i < src.numel(); ++i)
      if (!std::isfinite(v[i]))
        fail(path, "tensor '" + name + "' holds " + (std::isnan(v[i]) ? "NaN" : "an infinity") + " at element " +
                       std::to_string(i) + ": the run that wrote it diverged, or the file is damaged");
  }

  for (const auto& [name, value] : model_tensors) {
    Tensor dst = value;  // a view into the model's parameter or state buffer
    const Tensor& src = file.tensors.at(name);
    dst.copy_from(src.device() == dst.device() ? src : src.to(dst.device()));
  }
}

}  // namespace radius
