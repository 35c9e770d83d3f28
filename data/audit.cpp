#include "data/audit.h"

#include <omp.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <numeric>
#include <set>
#include <unordered_map>

#include "data/image.h"

namespace radius {

static_assert(NearSearchOptions{}.max_distance == kDefaultNearThreshold &&
                  NearSearchOptions{}.min_similarity == kDefaultMinSimilarity,
              "the audit's defaults and the search's are one choice");

uint64_t fnv1a64(const uint8_t* data, size_t size, uint64_t h) {
  for (size_t i = 0; i < size; ++i) {
    h ^= data[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

namespace {
std::string lower_copy(std::string s) {
  for (char& ch : s) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}
}  // namespace

bool read_color_header(const std::vector<uint8_t>& b, std::string* color, int* bit_depth) {
  switch (detect_format(b)) {
    case ImageFormat::png: {
      if (b.size() < 26 || std::memcmp(b.data() + 12, "IHDR", 4) != 0) return false;
      *bit_depth = b[24];
      switch (b[25]) {
        case 0: *color = "gray"; break;
        case 2: *color = "rgb"; break;
        case 3: *color = "palette"; break;
        case 4: *color = "gray+alpha"; break;
        case 6: *color = "rgba"; break;
        default: return false;
      }
      return true;
    }
    case ImageFormat::jpeg: {
      // Walk the marker segments to the first start-of-frame.
      size_t i = 2;
      while (i + 1 < b.size()) {
        if (b[i] != 0xFF) return false;
        const uint8_t m = b[i + 1];
        if (m == 0xFF) { ++i; continue; }  // fill byte
        if (m == 0x01 || (m >= 0xD0 && m <= 0xD8)) { i += 2; continue; }  // no length
        if (i + 3 >= b.size()) return false;
        const size_t len = size_t(b[i + 2]) << 8 | b[i + 3];
        const bool sof = m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
        if (sof) {
          if (i + 9 >= b.size()) return false;
          *bit_depth = b[i + 4];
          const int comps = b[i + 9];
          *color = comps == 1 ? "gray" : comps == 3 ? "rgb" : comps == 4 ? "cmyk" : std::to_string(comps) + "-channel";
          return true;
        }
        if (m == 0xDA || len < 2) return false;  // scan data before any frame header
        i += 2 + len;
      }
      return false;
    }
    case ImageFormat::dicom: {  // from the header's Photometric Interpretation and Bits Stored
      try {
        const DicomTags t = read_dicom_tags(b, "");
        *color = t.photometric == "MONOCHROME1" || t.photometric == "MONOCHROME2" ? "gray" : lower_copy(t.photometric);
        *bit_depth = t.bits_stored;
        return true;
      } catch (const DecodeError&) {
        return false;
      }
    }
    case ImageFormat::unknown: return false;
  }
  return false;
}

namespace {

void inspect_file(const std::string& path, AuditFile& f, ImageSignature& signature) {
  try {
    const std::vector<uint8_t> bytes = read_image_file(path);
    f.read = true;
    f.bytes = bytes.size();
    f.content_hash = fnv1a64(bytes.data(), bytes.size());
    f.format = detect_format(bytes);
    read_color_header(bytes, &f.color, &f.bit_depth);
    if (f.format == ImageFormat::dicom) {
      try {
        f.dicom = read_dicom_tags(bytes, path);
        f.has_dicom_tags = true;
      } catch (const DecodeError&) {
        // unparseable: decode_image_bytes below reports why
      }
    }
    const Image grey = decode_image_bytes(bytes, ColorMode::gray, path);
    f.width = grey.width;
    f.height = grey.height;
    uint64_t sum = 0;
    for (uint8_t p : grey.pixels) sum += p;
    f.mean_grey = double(sum) / double(grey.pixels.size());
    signature = image_signature(grey);
    f.phash = signature.phash;
    f.decoded = true;
  } catch (const DecodeError& e) {
    f.failure = e.reason();
    f.error = e.what();
  } catch (const std::exception& e) {  // bad_alloc and the like: still a finding, not a crash
    f.failure = DecodeFailure::corrupt;
    f.error = path + ": " + e.what();
  }
}

struct UnionFind {
  std::vector<size_t> parent;
  explicit UnionFind(size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), size_t(0)); }
  size_t find(size_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  }
  void unite(size_t a, size_t b) {
    a = find(a), b = find(b);
    if (a != b) parent[std::max(a, b)] = std::min(a, b);
  }
};

// Sets of byte-identical files among those read, confirmed byte by byte (a hash collision
// between different files would otherwise merge them).
std::vector<DuplicateSet> exact_duplicates(const Dataset& d, const std::vector<AuditFile>& files) {
  std::unordered_map<uint64_t, std::vector<size_t>> by_hash;
  for (size_t i = 0; i < files.size(); ++i)
    if (files[i].read && files[i].bytes > 0) by_hash[files[i].content_hash].push_back(i);
  std::vector<DuplicateSet> sets;
  for (auto& [hash, members] : by_hash) {
    if (members.size() < 2) continue;
    // Split the bucket into classes of equal bytes: compare each file with one representative per class.
    std::vector<std::pair<std::vector<uint8_t>, std::vector<size_t>>> classes;
    for (size_t i : members) {
      std::vector<uint8_t> bytes;
      try {
        bytes = read_image_file(d.samples[i].path);
      } catch (const DecodeError&) {
        continue;  // vanished since the first read: not a duplicate we can vouch for
      }
      auto it = std::find_if(classes.begin(), classes.end(), [&](const auto& c) { return c.first == bytes; });
      if (it == classes.end())
        classes.push_back({std::move(bytes), {i}});
      else
        it->second.push_back(i);
    }
    for (auto& c : classes) {
      if (c.second.size() < 2) continue;
      DuplicateSet s;
      s.members = std::move(c.second);
      std::sort(s.members.begin(), s.members.end());
      for (size_t i : s.members) {
        s.cross_split |= d.samples[i].split != d.samples[s.members[0]].split;
        s.cross_class |= d.samples[i].label != d.samples[s.members[0]].label;
      }
      sets.push_back(std::move(s));
    }
  }
  // Labelling errors first, then leaks, then the biggest sets; ties in listing order.
  std::sort(sets.begin(), sets.end(), [](const DuplicateSet& a, const DuplicateSet& b) {
    if (a.cross_class != b.cross_class) return a.cross_class;
    if (a.cross_split != b.cross_split) return a.cross_split;
    if (a.members.size() != b.members.size()) return a.members.size() > b.members.size();
    return a.members[0] < b.members[0];
  });
  return sets;
}

std::vector<std::string> distinct_splits(const Dataset& d) {
  std::vector<std::string> out;
  for (const Sample& s : d.samples)
    if (std::find(out.begin(), out.end(), s.split) == out.end()) out.push_back(s.split);
  return out;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  const size_t m = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + long(m), v.end());
  const double hi = v[m];
  if (v.size() % 2) return hi;
  return 0.5 * (hi + *std::max_element(v.begin(), v.begin() + long(m)));
}

void group_findings(AuditReport& r) {
  const Dataset& d = r.dataset;
  std::map<std::string, std::vector<size_t>> groups;
  for (size_t i = 0; i < d.samples.size(); ++i) groups[d.samples[i].group].push_back(i);
  // Pixel evidence: groups in which some duplicate pair crosses splits / classes.
  std::set<std::string> leak_seen, conflict_seen;
  auto note_pair = [&](size_t a, size_t b) {
    if (d.samples[a].group != d.samples[b].group) return;
    if (d.samples[a].split != d.samples[b].split) leak_seen.insert(d.samples[a].group);
    if (d.samples[a].label != d.samples[b].label) conflict_seen.insert(d.samples[a].group);
  };
  for (const DuplicateSet& s : r.exact_duplicates)
    if (s.cross_split || s.cross_class)
      for (size_t x = 0; x < s.members.size(); ++x)
        for (size_t y = x + 1; y < s.members.size(); ++y) note_pair(s.members[x], s.members[y]);
  for (const NearPair& p : r.near_pairs)
    if (p.cross_split || p.cross_class) note_pair(p.a, p.b);

  for (auto& [key, members] : groups) {
    GroupFinding g;
    g.group = key;
    g.members = members;
    for (size_t i : members) {
      if (std::find(g.splits.begin(), g.splits.end(), d.samples[i].split) == g.splits.end())
        g.splits.push_back(d.samples[i].split);
      if (std::find(g.labels.begin(), g.labels.end(), d.samples[i].label) == g.labels.end())
        g.labels.push_back(d.samples[i].label);
    }
    std::sort(g.labels.begin(), g.labels.end());
    if (g.splits.size() > 1) {
      GroupFinding leak = g;
      leak.confirmed = leak_seen.count(key) > 0;
      r.group_leaks.push_back(std::move(leak));
    }
    if (g.labels.size() > 1) {
      g.confirmed = conflict_seen.count(key) > 0;
      r.mixed_groups.push_back(std::move(g));
    }
  }
  auto order = [](const GroupFinding& a, const GroupFinding& b) {
    if (a.confirmed != b.confirmed) return a.confirmed;
    if (a.members.size() != b.members.size()) return a.members.size() > b.members.size();
    return a.group < b.group;
  };
  std::sort(r.group_leaks.begin(), r.group_leaks.end(), order);
  std::sort(r.mixed_groups.begin(), r.mixed_groups.end(), order);
}

// The DICOM header fields a leakage study compares between classes (site, device, protocol:
// one hospital's scanner per class is a shortcut). Only when the data holds DICOM files;
// other files count as "not dicom", an empty field as "(none)".
void dicom_confounders(AuditReport& r, int num_classes) {
  if (std::none_of(r.files.begin(), r.files.end(), [](const AuditFile& f) { return f.has_dicom_tags; })) return;
  const Dataset& d = r.dataset;
  const std::pair<const char*, std::string (*)(const DicomTags&)> fields[] = {
      {"manufacturer", [](const DicomTags& t) { return t.manufacturer; }},
      {"modality", [](const DicomTags& t) { return t.modality; }},
      {"body part", [](const DicomTags& t) { return t.body_part; }},
      {"photometric", [](const DicomTags& t) { return t.photometric; }},
      {"bits stored", [](const DicomTags& t) { return t.bits_stored ? std::to_string(t.bits_stored) : std::string(); }},
      {"pixel spacing", [](const DicomTags& t) { return t.pixel_spacing; }},
  };
  for (const auto& [attribute, field] : fields) {
    std::vector<int> labels;
    std::vector<std::string> values;
    for (size_t i = 0; i < r.files.size(); ++i) {
      const AuditFile& f = r.files[i];
      if (!f.decoded) continue;
      labels.push_back(d.samples[i].label);
      const std::string v = f.has_dicom_tags ? field(f.dicom) : "not dicom";
      values.push_back(v.empty() ? "(none)" : v);
    }
    r.associations.push_back(associate(attribute, labels, values, num_classes));
  }
}

void confounders(AuditReport& r) {
  const Dataset& d = r.dataset;
  std::vector<int> labels;
  std::vector<std::string> format, color, depth;
  std::vector<double> pixels, width, height, aspect, grey;
  std::vector<std::vector<double>> w_by_class(d.classes.size()), h_by_class(d.classes.size());
  for (size_t i = 0; i < r.files.size(); ++i) {
    const AuditFile& f = r.files[i];
    if (!f.decoded) continue;
    const int y = d.samples[i].label;
    labels.push_back(y);
    format.push_back(format_name(f.format));
    color.push_back(f.color.empty() ? "unknown" : f.color);
    depth.push_back(f.bit_depth ? std::to_string(f.bit_depth) + "-bit" : "unknown");
    pixels.push_back(double(f.width) * f.height);
    width.push_back(f.width);
    height.push_back(f.height);
    aspect.push_back(double(f.width) / f.height);
    grey.push_back(f.mean_grey);
    w_by_class[size_t(y)].push_back(f.width);
    h_by_class[size_t(y)].push_back(f.height);
  }
  const int c = int(d.classes.size());
  r.associations.push_back(associate("format", labels, format, c));
  r.associations.push_back(associate("colour mode", labels, color, c));
  r.associations.push_back(associate("bit depth", labels, depth, c));
  dicom_confounders(r, c);
  r.stumps.push_back(best_stump("pixel count", labels, pixels, c));
  r.stumps.push_back(best_stump("width", labels, width, c));
  r.stumps.push_back(best_stump("height", labels, height, c));
  r.stumps.push_back(best_stump("aspect ratio", labels, aspect, c));
  r.stumps.push_back(best_stump("mean grey level", labels, grey, c));
  for (size_t k = 0; k < d.classes.size(); ++k) {
    SizeStats s;
    const auto& w = w_by_class[k];
    const auto& h = h_by_class[k];
    s.n = int64_t(w.size());
    if (s.n) {
      s.mean_width = std::accumulate(w.begin(), w.end(), 0.0) / double(s.n);
      s.mean_height = std::accumulate(h.begin(), h.end(), 0.0) / double(s.n);
      s.median_width = median(w);
      s.median_height = median(h);
      s.min_width = int(*std::min_element(w.begin(), w.end()));
      s.max_width = int(*std::max_element(w.begin(), w.end()));
      s.min_height = int(*std::min_element(h.begin(), h.end()));
      s.max_height = int(*std::max_element(h.begin(), h.end()));
    }
    r.size_by_class.push_back(s);
  }
}

std::string plural(size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

void collect_warnings(AuditReport& r) {
  auto& w = r.warnings;
  size_t conflict_sets = 0, leak_sets = 0, within_sets = 0, dup_cross_group = 0;
  for (const DuplicateSet& s : r.exact_duplicates) {
    conflict_sets += s.cross_class;
    leak_sets += s.cross_split;
    within_sets += !s.cross_split && !s.cross_class;
    for (size_t i : s.members) {
      if (r.dataset.samples[i].group != r.dataset.samples[s.members[0]].group) {
        ++dup_cross_group;
        break;
      }
    }
  }
  size_t near_class = 0, near_split = 0, near_group = 0;
  for (const NearPair& p : r.near_pairs) {
    near_class += p.cross_class;
    near_split += p.cross_split;
    near_group += p.cross_group;
  }
  size_t conflict_groups = 0;
  for (const GroupFinding& g : r.mixed_groups) conflict_groups += g.confirmed;
  size_t confirmed_leaks = 0;
  for (const GroupFinding& g : r.group_leaks) confirmed_leaks += g.confirmed;

  if (conflict_sets)
    w.push_back("LABEL ERROR: " +
                plural(conflict_sets, "set of byte-identical files carries", "sets of byte-identical files carry") +
                " different labels");
  if (near_class)
    w.push_back("possible label errors: " + plural(near_class, "near-duplicate pair", "near-duplicate pairs") +
                " across classes");
  if (conflict_groups)
    w.push_back("possible label errors: " + plural(conflict_groups, "group holds", "groups hold") +
                " copies of one image under different labels");
  if (leak_sets)
    w.push_back("leakage: " +
                plural(leak_sets, "set of byte-identical files spans", "sets of byte-identical files span") +
                " splits");
  if (near_split)
    w.push_back("leakage: " + plural(near_split, "near-duplicate pair", "near-duplicate pairs") + " across splits");
  if (confirmed_leaks)
    w.push_back("leakage: " + plural(confirmed_leaks, "group key is", "group keys are") +
                " in more than one split, with copies confirmed by pixels");
  if (near_group || dup_cross_group) {
    std::string what;
    if (dup_cross_group) what = plural(dup_cross_group, "exact-duplicate set", "exact-duplicate sets");
    if (near_group)
      what += (what.empty() ? "" : " and ") + plural(near_group, "near-duplicate pair", "near-duplicate pairs");
    w.push_back("grouping: " + what + " join different group keys: a group-aware split would not keep the copies "
                "together (check --group-regex)");
  }
  for (const Association& a : r.associations)
    if (a.warn)
      w.push_back("confounder: " + a.attribute + " predicts the class (Cramer's V " +
                  std::to_string(a.cramers_v).substr(0, 4) + ", balanced accuracy " +
                  std::to_string(a.balanced_accuracy).substr(0, 4) + ")");
  for (const Stump& s : r.stumps)
    if (s.warn)
      w.push_back("confounder: " + s.attribute + " alone predicts the class (balanced accuracy " +
                  std::to_string(s.balanced_accuracy).substr(0, 4) + " with one threshold)");
  if (r.group_leaks.size() > confirmed_leaks)
    w.push_back("names: " + plural(r.group_leaks.size() - confirmed_leaks, "group key is", "group keys are") +
                " in more than one split by name only (no pixel match: the names may just coincide)");
  if (!r.unreadable.empty())
    w.push_back("unreadable: " + plural(r.unreadable.size(), "file", "files") + " cannot be decoded (a loader skips them)");
  if (within_sets)
    w.push_back("redundancy: " + plural(within_sets, "set", "sets") +
                " of byte-identical files within one split and class");
  if (r.near_truncated)
    w.push_back("near-duplicate search stopped at " + std::to_string(r.options.max_pairs) +
                " pairs: the threshold is probably too loose");
}

}  // namespace

AuditReport audit_dataset(const Dataset& dataset, const AuditOptions& options) {
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  AuditReport r;
  r.dataset = dataset;
  r.options = options;
  const Dataset& d = r.dataset;
  const size_t n = d.samples.size();
  r.files.resize(n);
  r.splits = distinct_splits(d);
  const int threads = options.threads > 0 ? options.threads : omp_get_max_threads();

  // 1. Read, hash and decode each file once. Signatures (4 KB each) live only for the search.
  std::vector<ImageSignature> signatures(n);
#pragma omp parallel for schedule(dynamic, 4) num_threads(threads)
  for (int64_t i = 0; i < int64_t(n); ++i)
    inspect_file(d.samples[size_t(i)].path, r.files[size_t(i)], signatures[size_t(i)]);
  const auto t1 = clock::now();
  for (size_t i = 0; i < n; ++i)
    if (!r.files[i].decoded) r.unreadable.push_back(i);

  // 2. Exact duplicates.
  r.exact_duplicates = exact_duplicates(d, r.files);
  std::vector<int64_t> dup_set(n, -1);
  for (size_t s = 0; s < r.exact_duplicates.size(); ++s)
    for (size_t i : r.exact_duplicates[s].members) dup_set[i] = int64_t(s);

  // 3. Near-duplicates among decoded files (byte-identical pairs are already reported).
  const auto t2 = clock::now();
  std::vector<bool> use(n);
  for (size_t i = 0; i < n; ++i) use[i] = r.files[i].decoded;
  NearSearchOptions near;
  near.max_distance = options.near_threshold;
  near.min_similarity = options.min_similarity;
  near.symmetries = options.symmetries;
  near.max_pairs = options.max_pairs;
  near.threads = threads;
  const NearSearchResult found = find_near_pairs(signatures, use, near);
  r.near_truncated = found.truncated;
  r.near_candidates = found.candidates;
  for (const NearPairHit& h : found.pairs) {
    if (dup_set[h.a] >= 0 && dup_set[h.a] == dup_set[h.b]) continue;
    NearPair p;
    p.a = h.a;
    p.b = h.b;
    p.distance = h.distance;
    p.similarity = h.similarity;
    p.symmetry = h.symmetry;
    p.cross_split = d.samples[p.a].split != d.samples[p.b].split;
    p.cross_class = d.samples[p.a].label != d.samples[p.b].label;
    p.cross_group = d.samples[p.a].group != d.samples[p.b].group;
    r.near_pairs.push_back(p);
  }
  std::stable_sort(r.near_pairs.begin(), r.near_pairs.end(), [](const NearPair& a, const NearPair& b) {
    if (a.cross_class != b.cross_class) return a.cross_class;
    if (a.cross_split != b.cross_split) return a.cross_split;
    return a.distance < b.distance;
  });
  const auto t3 = clock::now();

  // 4. Clusters of copies: exact sets and near pairs joined.
  UnionFind uf(n);
  for (const DuplicateSet& s : r.exact_duplicates)
    for (size_t i : s.members) uf.unite(s.members[0], i);
  for (const NearPair& p : r.near_pairs) uf.unite(p.a, p.b);
  std::map<size_t, std::vector<size_t>> comps;
  for (size_t i = 0; i < n; ++i)
    if (r.files[i].decoded) comps[uf.find(i)].push_back(i);
  r.distinct_images = int64_t(comps.size());
  for (auto& [root, members] : comps)
    if (members.size() > 1) r.near_clusters.push_back(std::move(members));
  std::stable_sort(r.near_clusters.begin(), r.near_clusters.end(),
                   [](const auto& a, const auto& b) { return a.size() > b.size(); });

  // 5. Groups, 6. confounders, 7. the summary.
  group_findings(r);
  confounders(r);
  collect_warnings(r);
  const auto t4 = clock::now();
  r.seconds_decode = std::chrono::duration<double>(t1 - t0).count();
  r.seconds_near = std::chrono::duration<double>(t3 - t2).count();
  r.seconds_total = std::chrono::duration<double>(t4 - t0).count();
  return r;
}

}  // namespace radius
