#include "data/splits.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <numeric>
#include <stdexcept>

#include "tensor/rng.h"

namespace radius {

namespace {

struct Unit {
  std::vector<size_t> members;  // sample indices
  std::vector<int64_t> per_class;
  int64_t size() const { return int64_t(members.size()); }
};

std::vector<Unit> make_units(const std::vector<int>& labels, const std::vector<std::string>& groups, int classes) {
  std::vector<Unit> units;
  std::map<std::string, size_t> by_key;  // ordered: unit order does not depend on hashing
  for (size_t i = 0; i < labels.size(); ++i) {
    size_t u;
    if (groups.empty()) {
      u = units.size();
      units.push_back({});
    } else {
      auto [it, fresh] = by_key.try_emplace(groups[i], units.size());
      if (fresh) units.push_back({});
      u = it->second;
    }
    if (units[u].per_class.empty()) units[u].per_class.assign(size_t(classes), 0);
    units[u].members.push_back(i);
    units[u].per_class[size_t(labels[i])]++;
  }
  return units;
}

}  // namespace

std::vector<int> assign_bins(const std::vector<int>& labels, const std::vector<std::string>& groups,
                             const std::vector<double>& weights, uint64_t seed) {
  if (!groups.empty() && groups.size() != labels.size())
    throw std::invalid_argument("split: " + std::to_string(groups.size()) + " group keys for " +
                                std::to_string(labels.size()) + " samples");
  if (weights.empty()) throw std::invalid_argument("split: no bins");
  const double weight_sum = std::accumulate(weights.begin(), weights.end(), 0.0);
  for (double w : weights)
    if (!(w > 0)) throw std::invalid_argument("split: every bin needs a positive weight");
  int classes = 0;
  for (int l : labels) {
    if (l < 0) throw std::invalid_argument("split: negative label");
    classes = std::max(classes, l + 1);
  }
  std::vector<Unit> units = make_units(labels, groups, classes);

  // Seeded shuffle (Fisher-Yates on Philox), then largest units first: big
  // groups are placed while every bin still has room.
  Rng rng(seed, 0x5B117);
  for (size_t i = units.size(); i > 1; --i) std::swap(units[i - 1], units[rng.below(uint32_t(i))]);
  std::stable_sort(units.begin(), units.end(), [](const Unit& a, const Unit& b) { return a.size() > b.size(); });

  std::vector<int64_t> class_total(size_t(classes), 0);
  for (int l : labels) class_total[size_t(l)]++;
  const size_t bins = weights.size();
  std::vector<std::vector<int64_t>> filled(bins, std::vector<int64_t>(size_t(classes), 0));
  std::vector<int> bin_of(labels.size(), 0);
  for (const Unit& u : units) {
    // Fill of bin b for this unit's classes: sum_c n_uc * filled_bc / (w_b * total_c), per unit sample.
    size_t best = 0;
    double best_fill = 0;
    for (size_t b = 0; b < bins; ++b) {
      double fill = 0;
      for (int c = 0; c < classes; ++c)
        if (u.per_class[size_t(c)])
          fill += double(u.per_class[size_t(c)]) * double(filled[b][size_t(c)]) /
                  (weights[b] / weight_sum * double(class_total[size_t(c)]));
      if (b == 0 || fill < best_fill - 1e-12) best = b, best_fill = fill;
    }
    for (int c = 0; c < classes; ++c) filled[best][size_t(c)] += u.per_class[size_t(c)];
    for (size_t i : u.members) bin_of[i] = int(best);
  }
  return bin_of;
}

std::vector<int> kfold_assign(const std::vector<int>& labels, const std::vector<std::string>& groups, int k,
                              uint64_t seed) {
  if (k < 2) throw std::invalid_argument("k-fold: k must be at least 2, got " + std::to_string(k));
  return assign_bins(labels, groups, std::vector<double>(size_t(k), 1.0), seed);
}

const char* default_group_pattern() { return "^(.+?)-rotated"; }

namespace {
constexpr size_t kMaxStem = 255;      // NAME_MAX: the longest file name
constexpr size_t kMaxPattern = 1000;  // libstdc++'s regex compiler recurses on nesting
}  // namespace

GroupPattern::GroupPattern(const std::string& pattern) {
  if (pattern.empty() || pattern == default_group_pattern()) return;
  if (pattern.size() > kMaxPattern)
    throw std::invalid_argument("group pattern of " + std::to_string(pattern.size()) + " characters: at most " +
                                std::to_string(kMaxPattern));
  try {
    regex_ = std::regex(pattern);
  } catch (const std::regex_error& e) {
    throw std::invalid_argument("group pattern '" + pattern + "' is not a valid regex: " + e.what());
  }
  plain_ = false;
}

std::string GroupPattern::key(const std::string& path) const {
  const std::string stem = std::filesystem::path(path).stem().string();
  if (plain_) {  // "^(.+?)-rotated": the shortest non-empty prefix followed by "-rotated"
    const size_t at = stem.empty() ? std::string::npos : stem.find("-rotated", 1);
    return at == std::string::npos ? stem : stem.substr(0, at);
  }
  if (stem.size() > kMaxStem) return stem;
  std::smatch m;
  if (!std::regex_search(stem, m, regex_)) return stem;
  return m.size() > 1 && m[1].matched ? m[1].str() : m[0].str();
}

}  // namespace radius
