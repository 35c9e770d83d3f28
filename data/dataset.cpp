#include "data/dataset.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>

#include "data/csv.h"
#include "data/splits.h"

namespace fs = std::filesystem;

namespace radius {

namespace {

const char* const kSplits[] = {"train", "val", "test"};

std::string lower(std::string s) {
  for (char& ch : s) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

std::vector<std::string> subfolders(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;  // a broken or looping symlink is not a class folder (and must not throw)
  for (const fs::directory_entry& e : fs::directory_iterator(dir))
    if (e.is_directory(ec)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());  // Keras: classes in alphanumeric order
  return names;
}

// An image by its extension, or a DICOM file without one: PACS exports often name files
// by their UID alone ("1.2.840.113619.2.55.3"; the "extension" is then digits), and those
// are recognised by the "DICM" marker at byte 128.
bool is_listed_image(const fs::path& path) {
  if (has_image_extension(path.string())) return true;
  const std::string ext = path.extension().string();
  if (!std::all_of(ext.begin() + (ext.empty() ? 0 : 1), ext.end(), [](char ch) { return std::isdigit((unsigned char)ch); }))
    return false;
  std::ifstream in(path, std::ios::binary);
  char head[132];
  return in.read(head, sizeof head) && std::memcmp(head + 128, "DICM", 4) == 0;
}

// Image files under a class folder, recursively (as Keras does), symlinked
// folders not followed (no loops); sorted for a stable order. An entry whose type
// cannot be found out (a symlink loop, a dangling link) is listed: decoding then
// skips it as unreadable, with the reason, instead of the listing failing.
std::vector<std::string> image_files(const fs::path& dir) {
  std::vector<std::string> files;
  std::error_code ec, type_ec;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
    if (!it->is_directory(type_ec) && is_listed_image(it->path())) files.push_back(it->path().string());
  if (ec) throw std::runtime_error(dir.string() + ": cannot list: " + ec.message());
  std::sort(files.begin(), files.end());
  return files;
}

void add_class_folders(Dataset& d, const fs::path& dir, const std::string& split, bool define_classes) {
  const std::vector<std::string> names = subfolders(dir);
  if (names.empty()) throw std::runtime_error(dir.string() + ": no class folders (expected e.g. 'fractured/' and 'not fractured/')");
  if (define_classes) d.classes = names;
  for (const std::string& name : names) {
    const auto it = std::find(d.classes.begin(), d.classes.end(), name);
    if (it == d.classes.end())
      throw std::runtime_error((dir / name).string() + ": class '" + name + "' is not among the training classes");
    const std::vector<std::string> files = image_files(dir / name);
    if (files.empty()) throw std::runtime_error((dir / name).string() + ": class '" + name + "' has no images");
    for (const std::string& f : files) d.samples.push_back({f, int(it - d.classes.begin()), split, ""});
  }
}

Dataset list_folders(const fs::path& root) {
  Dataset d;
  d.root = root.string();
  bool any_split = false;
  for (const char* s : kSplits) any_split |= fs::is_directory(root / s);
  if (!any_split) {
    add_class_folders(d, root, "", true);
    return d;
  }
  // Classes come from train/ (or the first split present); the others must match.
  bool first = true;
  for (const char* s : kSplits)
    if (fs::is_directory(root / s)) {
      add_class_folders(d, root / s, s, first);
      first = false;
    }
  return d;
}

bool is_index(const std::string& t) {
  return !t.empty() && t.size() < 6 && std::all_of(t.begin(), t.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

int parse_label(const Dataset& d, const std::string& text, const std::string& where) {
  const auto it = std::find(d.classes.begin(), d.classes.end(), text);
  if (it != d.classes.end()) return int(it - d.classes.begin());
  if (is_index(text)) return std::stoi(text);
  throw std::runtime_error(where + ": bad label '" + text + "'");
}

Dataset list_manifest(const fs::path& file) {
  const std::vector<CsvRow> rows = read_csv(file.string());
  if (rows.empty()) throw std::runtime_error(file.string() + ": empty manifest");
  std::map<std::string, size_t> col;
  for (size_t i = 0; i < rows[0].size(); ++i) col[lower(rows[0][i])] = i;
  if (!col.count("path") || !col.count("label"))
    throw std::runtime_error(file.string() + ":1: the header must name the columns 'path' and 'label' (optional: 'group', 'split')");
  Dataset d;
  d.root = file.string();
  std::vector<std::string> label_text;
  for (size_t r = 1; r < rows.size(); ++r) {
    const std::string where = file.string() + ":" + std::to_string(r + 1);
    if (rows[r].size() == 1 && rows[r][0].empty()) continue;  // blank line
    if (rows[r].size() != rows[0].size())
      throw std::runtime_error(where + ": " + std::to_string(rows[r].size()) + " fields, the header has " +
                               std::to_string(rows[0].size()));
    Sample s;
    fs::path p = rows[r][col["path"]];
    if (p.empty()) throw std::runtime_error(where + ": empty path");
    s.path = (p.is_absolute() ? p : file.parent_path() / p).string();
    if (col.count("group")) s.group = rows[r][col["group"]];
    if (col.count("split")) {
      s.split = rows[r][col["split"]];
      if (!s.split.empty() && s.split != "train" && s.split != "val" && s.split != "test")
        throw std::runtime_error(where + ": split must be train, val, test or empty, got '" + s.split + "'");
    }
    label_text.push_back(rows[r][col["label"]]);
    d.samples.push_back(s);
  }
  if (d.samples.empty()) throw std::runtime_error(file.string() + ": no samples");
  // Labels: integer indices as given, or class names sorted alphabetically (as folders are).
  std::vector<std::string> names;
  for (const std::string& t : label_text)
    if (!is_index(t)) names.push_back(t);
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  d.classes = names;
  int max_index = -1;
  for (size_t i = 0; i < d.samples.size(); ++i) {
    d.samples[i].label = parse_label(d, label_text[i], file.string() + ": sample " + std::to_string(i + 1));
    max_index = std::max(max_index, d.samples[i].label);
  }
  if (d.classes.empty())
    for (int i = 0; i <= max_index; ++i) d.classes.push_back(std::to_string(i));
  if (max_index >= int(d.classes.size()))
    throw std::runtime_error(file.string() + ": label index " + std::to_string(max_index) + " but only " +
                             std::to_string(d.classes.size()) + " classes");
  return d;
}

}  // namespace

bool has_image_extension(const std::string& path) {
  static const char* const exts[] = {".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".tif", ".tiff", ".dcm", ".dicom"};
  const std::string e = lower(fs::path(path).extension().string());
  return std::any_of(std::begin(exts), std::end(exts), [&](const char* x) { return e == x; });
}

bool Dataset::has_split(const std::string& split) const {
  return std::any_of(samples.begin(), samples.end(), [&](const Sample& s) { return s.split == split; });
}

std::vector<size_t> Dataset::indices(const std::string& split) const {
  std::vector<size_t> out;
  for (size_t i = 0; i < samples.size(); ++i)
    if (samples[i].split == split) out.push_back(i);
  return out;
}

std::vector<int64_t> Dataset::class_counts(const std::string& split) const {
  std::vector<int64_t> counts(classes.size(), 0);
  for (const Sample& s : samples)
    if (s.split == split) counts[size_t(s.label)]++;
  return counts;
}

std::string class_count_summary(const Dataset& d) {
  std::vector<int64_t> counts(d.classes.size(), 0);
  for (const Sample& s : d.samples) counts.at(size_t(s.label))++;
  std::string out;
  for (size_t c = 0; c < d.classes.size(); ++c)
    out += (c ? ", " : "") + d.classes[c] + ": " + std::to_string(counts[c]);
  return out;
}

void expect_two_classes(const Dataset& d) {
  if (d.classes.size() == 2) return;
  const std::string n = std::to_string(d.classes.size());
  throw std::runtime_error(
      d.root + ": " + n + (d.classes.size() == 1 ? " class" : " classes") + " (" + class_count_summary(d) +
      " images), but the model's one sigmoid output tells exactly two classes apart: give two class folders (or, "
      "in a manifest, two label names; a mistyped label counts as a class of its own)");
}

Dataset list_dataset(const std::string& path, const ListOptions& options) {
  const fs::path p(path);
  std::error_code ec;
  Dataset d;
  if (fs::is_regular_file(p, ec) && lower(p.extension().string()) == ".csv")
    d = list_manifest(p);
  else if (fs::is_directory(p, ec))
    d = list_folders(p);
  else
    throw std::runtime_error(path + ": no such folder or .csv manifest");
  const GroupPattern pattern(options.group_pattern);
  for (Sample& s : d.samples)
    if (s.group.empty()) s.group = pattern.key(s.path);
  return d;
}

}  // namespace radius
