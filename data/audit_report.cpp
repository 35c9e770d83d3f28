// The audit's two faces: a text report for people, JSON for tools.
#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <map>

#include "data/audit.h"

namespace radius {

namespace {

std::string fmt(const char* f, ...) __attribute__((format(printf, 1, 2)));
std::string fmt(const char* f, ...) {
  va_list args, copy;
  va_start(args, f);
  va_copy(copy, args);
  const int n = std::vsnprintf(nullptr, 0, f, copy);
  va_end(copy);
  std::string s(size_t(n > 0 ? n : 0), '\0');
  std::vsnprintf(s.data(), s.size() + 1, f, args);
  va_end(args);
  return s;
}

std::string hex64(uint64_t x) { return fmt("%016llx", static_cast<unsigned long long>(x)); }

// Paths as the user knows them: relative to the dataset folder (or the manifest's folder).
struct Namer {
  std::string prefix;
  explicit Namer(const Dataset& d) {
    std::filesystem::path root(d.root);
    std::error_code ec;
    if (std::filesystem::is_regular_file(root, ec)) root = root.parent_path();
    prefix = root.string();
    if (!prefix.empty() && prefix.back() != '/') prefix += '/';
  }
  std::string operator()(const std::string& path) const {
    return path.compare(0, prefix.size(), prefix) == 0 ? path.substr(prefix.size()) : path;
  }
};

std::string split_name(const std::string& s) { return s.empty() ? "(no split)" : s; }

std::string where(const AuditReport& r, size_t i) {
  const Sample& s = r.dataset.samples[i];
  return s.split.empty() ? r.dataset.classes[size_t(s.label)] : s.split + "/" + r.dataset.classes[size_t(s.label)];
}

std::string more(size_t shown, size_t total) {
  return shown < total ? fmt("  ... and %zu more\n", total - shown) : std::string();
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

void counts_section(const AuditReport& r, std::string& out) {
  const Dataset& d = r.dataset;
  out += "Counts (files listed; unreadable in brackets)\n";
  size_t width = 6;
  for (const std::string& c : d.classes) width = std::max(width, c.size() + 2);
  out += fmt("  %-12s", "split");
  for (const std::string& c : d.classes) out += fmt("%*s", int(width), c.c_str());
  out += fmt("%*s\n", int(width), "total");
  auto row = [&](const std::string& name, const std::string* split) {
    std::vector<int64_t> listed(d.classes.size() + 1, 0), bad(d.classes.size() + 1, 0);
    for (size_t i = 0; i < d.samples.size(); ++i) {
      if (split && d.samples[i].split != *split) continue;
      const size_t y = size_t(d.samples[i].label);
      listed[y]++, listed.back()++;
      if (!r.files[i].decoded) bad[y]++, bad.back()++;
    }
    out += fmt("  %-12s", name.c_str());
    for (size_t k = 0; k < listed.size(); ++k) {
      const std::string cell = bad[k] ? fmt("%lld [%lld]", (long long)listed[k], (long long)bad[k])
                                      : fmt("%lld", (long long)listed[k]);
      out += fmt("%*s", int(width), cell.c_str());
    }
    out += "\n";
  };
  for (const std::string& s : r.splits) row(split_name(s), &s);
  if (r.splits.size() > 1) row("all", nullptr);
}

void unreadable_section(const AuditReport& r, const Namer& name, size_t max_list, std::string& out) {
  out += fmt("\nUnreadable files: %zu\n", r.unreadable.size());
  if (r.unreadable.empty()) return;
  std::map<std::string, size_t> by_reason;
  for (size_t i : r.unreadable) by_reason[to_string(r.files[i].failure)]++;
  std::vector<std::string> parts;
  for (const auto& [reason, count] : by_reason) parts.push_back(fmt("%s %zu", reason.c_str(), count));
  out += "  by reason: " + join(parts, ", ") + "\n";
  for (size_t k = 0; k < r.unreadable.size() && k < max_list; ++k) {
    const AuditFile& f = r.files[r.unreadable[k]];
    // The error text starts with the full path; show it relative.
    std::string msg = f.error;
    const std::string& path = r.dataset.samples[r.unreadable[k]].path;
    if (msg.compare(0, path.size(), path) == 0) msg = name(path) + msg.substr(path.size());
    out += "  " + msg + "\n";
  }
  out += more(std::min(max_list, r.unreadable.size()), r.unreadable.size());
}

void exact_section(const AuditReport& r, const Namer& name, size_t max_list, std::string& out) {
  size_t files = 0, conflict = 0, leak = 0, within = 0;
  for (const DuplicateSet& s : r.exact_duplicates) {
    files += s.members.size();
    conflict += s.cross_class;
    leak += s.cross_split;
    within += !s.cross_class && !s.cross_split;
  }
  out += fmt("\nExact duplicates (identical bytes): %zu sets, %zu files, %zu redundant copies\n",
             r.exact_duplicates.size(), files, files - r.exact_duplicates.size());
  if (r.exact_duplicates.empty()) return;
  out += fmt("  sets across classes (LABEL ERRORS): %zu; across splits: %zu; within one split and class: %zu\n",
             conflict, leak, within);
  for (size_t k = 0; k < r.exact_duplicates.size() && k < max_list; ++k) {
    const DuplicateSet& s = r.exact_duplicates[k];
    const char* tag = s.cross_class ? "!! LABEL ERROR" : s.cross_split ? "leak across splits" : "same split";
    out += fmt("  [%s] %zu files:\n", tag, s.members.size());
    for (size_t m = 0; m < s.members.size() && m < 6; ++m)
      out += "      " + name(r.dataset.samples[s.members[m]].path) + "  (" + where(r, s.members[m]) + ")\n";
    if (s.members.size() > 6) out += fmt("      ... and %zu more\n", s.members.size() - 6);
  }
  out += more(std::min(max_list, r.exact_duplicates.size()), r.exact_duplicates.size());
}

void near_section(const AuditReport& r, const Namer& name, size_t max_list, std::string& out) {
  size_t cls = 0, split = 0, group = 0;
  for (const NearPair& p : r.near_pairs) cls += p.cross_class, split += p.cross_split, group += p.cross_group;
  size_t decoded = r.files.size() - r.unreadable.size();
  out += fmt("\nNear-duplicates (hash distance <= %d of 63 bits and detail correlation >= %.2f%s): %zu pairs%s\n",
             r.options.near_threshold, double(r.options.min_similarity),
             r.options.symmetries ? ", up to rotation and mirroring" : "", r.near_pairs.size(),
             r.near_truncated ? " (search stopped at the pair limit)" : "");
  out += fmt("  %llu hash-close candidates checked, %zu confirmed (exact duplicates not repeated here)\n",
             (unsigned long long)r.near_candidates, r.near_pairs.size());
  out += fmt("  across classes: %zu; across splits: %zu; between different group keys: %zu\n", cls, split, group);
  size_t in_clusters = 0;
  for (const auto& c : r.near_clusters) in_clusters += c.size();
  out += fmt("  %lld distinct images among %zu decoded files (%zu clusters of copies hold %zu files)\n",
             (long long)r.distinct_images, decoded, r.near_clusters.size(), in_clusters);
  for (size_t k = 0; k < r.near_pairs.size() && k < max_list; ++k) {
    const NearPair& p = r.near_pairs[k];
    const char* tag = p.cross_class ? "!! across classes" : p.cross_split ? "across splits" : "same split";
    out += fmt("  [%s] distance %d, correlation %.3f (%s):\n", tag, p.distance, double(p.similarity),
               to_string(p.symmetry));
    out += "      " + name(r.dataset.samples[p.a].path) + "  (" + where(r, p.a) + ")\n";
    out += "      " + name(r.dataset.samples[p.b].path) + "  (" + where(r, p.b) + ")\n";
  }
  out += more(std::min(max_list, r.near_pairs.size()), r.near_pairs.size());
  if (!r.near_clusters.empty()) {
    out += "  largest clusters:\n";
    for (size_t k = 0; k < r.near_clusters.size() && k < std::min<size_t>(max_list, 5); ++k) {
      const auto& c = r.near_clusters[k];
      std::vector<std::string> splits;
      for (size_t i : c)
        if (std::find(splits.begin(), splits.end(), where(r, i)) == splits.end()) splits.push_back(where(r, i));
      out += fmt("    %zu files in %s, e.g. %s\n", c.size(), join(splits, ", ").c_str(),
                 name(r.dataset.samples[c[0]].path).c_str());
    }
  }
}

void group_section(const AuditReport& r, const Namer& name, size_t max_list, std::string& out, bool leaks) {
  const auto& list = leaks ? r.group_leaks : r.mixed_groups;
  size_t confirmed = 0;
  for (const GroupFinding& g : list) confirmed += g.confirmed;
  out += leaks ? fmt("\nGroup leakage (group keys in more than one split): %zu, confirmed by pixels: %zu\n",
                     list.size(), confirmed)
               : fmt("\nGroup keys under more than one label: %zu, confirmed by pixels: %zu\n", list.size(), confirmed);
  for (size_t k = 0; k < list.size() && k < max_list; ++k) {
    const GroupFinding& g = list[k];
    std::vector<std::string> parts;
    if (leaks) {
      for (const std::string& s : g.splits) {
        const auto n = std::count_if(g.members.begin(), g.members.end(),
                                     [&](size_t i) { return r.dataset.samples[i].split == s; });
        parts.push_back(fmt("%s %ld", split_name(s).c_str(), long(n)));
      }
    } else {
      for (int y : g.labels) {
        const auto n = std::count_if(g.members.begin(), g.members.end(),
                                     [&](size_t i) { return r.dataset.samples[i].label == y; });
        parts.push_back(fmt("%s %ld", r.dataset.classes[size_t(y)].c_str(), long(n)));
      }
    }
    out += fmt("  '%s': %s%s, e.g. %s\n", g.group.c_str(), join(parts, ", ").c_str(),
               g.confirmed ? " (pixels agree)" : " (names only)", name(r.dataset.samples[g.members[0]].path).c_str());
  }
  out += more(std::min(max_list, list.size()), list.size());
}

void confounder_section(const AuditReport& r, std::string& out) {
  const Dataset& d = r.dataset;
  out += "\nConfounders (decoded files; does a nuisance attribute predict the class?)\n";
  out += fmt("  warn when Cramer's V > %.1f or balanced accuracy > %.1f (chance %.2f), with >= %lld files per class\n",
             kWarnCramersV, kWarnBalancedAccuracy, r.associations.empty() ? 0.0 : r.associations[0].chance,
             (long long)kMinPerClass);
  for (const Association& a : r.associations) {
    out += fmt("  %-12s V %.2f, balanced accuracy %.2f%s\n", a.attribute.c_str(), a.cramers_v, a.balanced_accuracy,
               a.warn ? "   <-- WARNING" : (!a.enough_data ? "   (too few files to judge)" : ""));
    for (size_t c = 0; c < d.classes.size(); ++c) {
      int64_t total = 0;
      for (int64_t x : a.counts[c]) total += x;
      std::vector<std::string> cells;
      for (size_t v = 0; v < a.values.size(); ++v)
        if (a.counts[c][v])
          cells.push_back(fmt("%s %lld (%.0f%%)", a.values[v].c_str(), (long long)a.counts[c][v],
                              100.0 * double(a.counts[c][v]) / double(total)));
      out += fmt("      %-16s %s\n", d.classes[c].c_str(), join(cells, ", ").c_str());
    }
  }
  out += "  size per class (width x height):\n";
  for (size_t c = 0; c < d.classes.size() && c < r.size_by_class.size(); ++c) {
    const SizeStats& s = r.size_by_class[c];
    out += fmt("      %-16s n %lld, mean %.0f x %.0f, median %.0f x %.0f, range %d-%d x %d-%d\n", d.classes[c].c_str(),
               (long long)s.n, s.mean_width, s.mean_height, s.median_width, s.median_height, s.min_width, s.max_width,
               s.min_height, s.max_height);
  }
  out += "  best single threshold (balanced accuracy):\n";
  for (const Stump& s : r.stumps) {
    std::string rule = "no useful cut";
    if (s.below_class >= 0)
      rule = fmt("<= %.4g -> %s, else %s", s.threshold, d.classes[size_t(s.below_class)].c_str(),
                 d.classes[size_t(s.above_class)].c_str());
    out += fmt("      %-16s %.2f  (%s)%s\n", s.attribute.c_str(), s.balanced_accuracy, rule.c_str(),
               s.warn ? "   <-- WARNING" : "");
  }
}

}  // namespace

std::string format_audit_text(const AuditReport& r, size_t max_list) {
  const Dataset& d = r.dataset;
  const Namer name(d);
  std::string out = fmt("Dataset audit: %s\n", d.root.c_str());
  std::vector<std::string> cls;
  for (size_t c = 0; c < d.classes.size(); ++c) cls.push_back(fmt("%zu = '%s'", c, d.classes[c].c_str()));
  std::vector<std::string> splits;
  for (const std::string& s : r.splits) splits.push_back(split_name(s));
  out += fmt("  %zu files; classes %s; splits %s\n", d.samples.size(), join(cls, ", ").c_str(),
             join(splits, ", ").c_str());
  out += fmt("  read and decoded in %.2f s, near-duplicate search %.2f s, total %.2f s\n\n", r.seconds_decode,
             r.seconds_near, r.seconds_total);
  counts_section(r, out);
  unreadable_section(r, name, max_list, out);
  exact_section(r, name, max_list, out);
  near_section(r, name, max_list, out);
  group_section(r, name, max_list, out, true);
  group_section(r, name, max_list, out, false);
  confounder_section(r, out);
  const size_t n = r.warnings.size();
  out += "\nSummary: " + (n ? fmt("%zu finding%s", n, n == 1 ? "" : "s") : std::string("no problems found")) + "\n";
  for (const std::string& w : r.warnings) out += "  - " + w + "\n";
  return out;
}

nlohmann::json audit_to_json(const AuditReport& r) {
  using nlohmann::json;
  const Dataset& d = r.dataset;
  auto path = [&](size_t i) { return d.samples[i].path; };
  json j;
  j["root"] = d.root;
  j["classes"] = d.classes;
  j["splits"] = r.splits;
  j["options"] = {{"near_threshold", r.options.near_threshold},
                  {"min_similarity", r.options.min_similarity},
                  {"symmetries", r.options.symmetries},
                  {"max_pairs", r.options.max_pairs}};
  j["note"] = "indices (a, b, members) refer to the 'files' array";

  json counts = json::array();
  for (const std::string& s : r.splits)
    for (size_t c = 0; c < d.classes.size(); ++c) {
      int64_t listed = 0, decoded = 0;
      for (size_t i = 0; i < d.samples.size(); ++i)
        if (d.samples[i].split == s && size_t(d.samples[i].label) == c) listed++, decoded += r.files[i].decoded;
      counts.push_back({{"split", s}, {"class", d.classes[c]}, {"listed", listed}, {"decoded", decoded}});
    }
  j["counts"] = counts;

  json files = json::array();
  for (size_t i = 0; i < d.samples.size(); ++i) {
    const Sample& s = d.samples[i];
    const AuditFile& f = r.files[i];
    json o = {{"path", s.path}, {"split", s.split}, {"label", s.label}, {"class", d.classes[size_t(s.label)]},
              {"group", s.group}, {"decoded", f.decoded}};
    if (f.read) {
      o["bytes"] = f.bytes;
      o["content_hash"] = hex64(f.content_hash);
      o["format"] = format_name(f.format);
      if (!f.color.empty()) o["color"] = f.color;
      if (f.bit_depth) o["bit_depth"] = f.bit_depth;
      if (f.has_dicom_tags)
        o["dicom"] = {{"manufacturer", f.dicom.manufacturer}, {"modality", f.dicom.modality},
                      {"body_part", f.dicom.body_part},       {"photometric", f.dicom.photometric},
                      {"bits_stored", f.dicom.bits_stored},   {"pixel_spacing", f.dicom.pixel_spacing}};
    }
    if (f.decoded) {
      o["width"] = f.width;
      o["height"] = f.height;
      o["mean_grey"] = f.mean_grey;
      o["phash"] = hex64(f.phash.variant[0]);
    } else {
      o["reason"] = to_string(f.failure);
      o["error"] = f.error;
    }
    files.push_back(std::move(o));
  }
  j["files"] = std::move(files);

  json bad = json::array();
  for (size_t i : r.unreadable)
    bad.push_back({{"index", i}, {"path", path(i)}, {"reason", to_string(r.files[i].failure)}, {"error", r.files[i].error}});
  j["unreadable"] = bad;

  json exact = json::array();
  for (const DuplicateSet& s : r.exact_duplicates) {
    json paths = json::array();
    for (size_t i : s.members) paths.push_back(path(i));
    exact.push_back({{"members", s.members}, {"paths", paths}, {"cross_split", s.cross_split},
                     {"cross_class", s.cross_class}, {"content_hash", hex64(r.files[s.members[0]].content_hash)}});
  }
  j["exact_duplicates"] = exact;

  json pairs = json::array();
  for (const NearPair& p : r.near_pairs)
    pairs.push_back({{"a", p.a}, {"b", p.b}, {"distance", p.distance}, {"similarity", p.similarity},
                     {"symmetry", to_string(p.symmetry)},
                     {"cross_split", p.cross_split}, {"cross_class", p.cross_class}, {"cross_group", p.cross_group}});
  j["near_duplicates"] = {{"threshold", r.options.near_threshold},
                          {"min_similarity", r.options.min_similarity},
                          {"candidates", r.near_candidates},
                          {"symmetries", r.options.symmetries},
                          {"truncated", r.near_truncated},
                          {"pairs", pairs},
                          {"clusters", r.near_clusters},
                          {"distinct_images", r.distinct_images}};

  auto groups = [&](const std::vector<GroupFinding>& list) {
    json a = json::array();
    for (const GroupFinding& g : list) {
      json paths = json::array();
      for (size_t i : g.members) paths.push_back(path(i));
      a.push_back({{"group", g.group}, {"splits", g.splits}, {"labels", g.labels}, {"members", g.members},
                   {"paths", paths}, {"confirmed", g.confirmed}});
    }
    return a;
  };
  j["group_leakage"] = groups(r.group_leaks);
  j["mixed_label_groups"] = groups(r.mixed_groups);

  json assoc = json::array();
  for (const Association& a : r.associations) {
    json table = json::object();
    for (size_t c = 0; c < d.classes.size(); ++c) {
      json row = json::object();
      for (size_t v = 0; v < a.values.size(); ++v) row[a.values[v]] = a.counts[c][v];
      table[d.classes[c]] = row;
    }
    assoc.push_back({{"attribute", a.attribute}, {"table", table}, {"cramers_v", a.cramers_v},
                     {"balanced_accuracy", a.balanced_accuracy}, {"chance", a.chance},
                     {"enough_data", a.enough_data}, {"warn", a.warn}});
  }
  json stumps = json::array();
  for (const Stump& s : r.stumps) {
    json o = {{"attribute", s.attribute}, {"balanced_accuracy", s.balanced_accuracy}, {"chance", s.chance},
              {"enough_data", s.enough_data}, {"warn", s.warn}};
    if (s.below_class >= 0) {
      o["threshold"] = s.threshold;
      o["below"] = d.classes[size_t(s.below_class)];
      o["above"] = d.classes[size_t(s.above_class)];
    }
    stumps.push_back(std::move(o));
  }
  json sizes = json::array();
  for (size_t c = 0; c < r.size_by_class.size(); ++c) {
    const SizeStats& s = r.size_by_class[c];
    sizes.push_back({{"class", d.classes[c]}, {"n", s.n}, {"mean_width", s.mean_width},
                     {"mean_height", s.mean_height}, {"median_width", s.median_width},
                     {"median_height", s.median_height}, {"min_width", s.min_width}, {"max_width", s.max_width},
                     {"min_height", s.min_height}, {"max_height", s.max_height}});
  }
  j["confounders"] = {{"warn_cramers_v", kWarnCramersV},
                      {"warn_balanced_accuracy", kWarnBalancedAccuracy},
                      {"min_per_class", kMinPerClass},
                      {"categorical", assoc},
                      {"thresholds", stumps},
                      {"size_by_class", sizes}};
  j["warnings"] = r.warnings;
  j["seconds"] = {{"decode", r.seconds_decode}, {"near", r.seconds_near}, {"total", r.seconds_total}};
  return j;
}

}  // namespace radius
