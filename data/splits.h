// Splits that do not leak: stratified train/val/test splits and k-fold, with
// optional groups kept whole on one side.
//
// Why groups: the popular Kaggle fracture set holds rotated copies of ~190
// radiographs ("12-rotated1-rotated2.jpg"); a random split puts copies of one
// X-ray in both train and test, and the test accuracy measures memory. With a
// group key per sample (by default the file-name prefix before the first
// "-rotated"), every copy of one radiograph lands in the same bin.
//
// One greedy algorithm serves every case. Units (a group, or a single sample
// when there are no groups) are visited in a seeded random order, largest
// first, and each goes to the bin whose share of the unit's classes is least
// full relative to the bin's target weight. Without groups this is an exact
// stratified split (per-class counts differ by at most one from the target);
// with groups it is as stratified as the group sizes allow.
#pragma once
#include <cstdint>
#include <regex>
#include <string>
#include <vector>

namespace radius {

// Bin index per sample. labels: class per sample (0..C-1). groups: a key per
// sample, or empty for no grouping. weights: target fraction per bin (> 0; they
// are normalised). Deterministic in (inputs, seed).
std::vector<int> assign_bins(const std::vector<int>& labels, const std::vector<std::string>& groups,
                             const std::vector<double>& weights, uint64_t seed);

// k equal folds: fold index per sample.
std::vector<int> kfold_assign(const std::vector<int>& labels, const std::vector<std::string>& groups, int k,
                              uint64_t seed);

// The default group pattern: the stem's prefix before the first "-rotated".
const char* default_group_pattern();

// Group keys of paths: a pattern's first capture group (or whole match) on the file
// name without extension; the whole stem when it does not match.
//  - The default pattern ("" or default_group_pattern()) is a plain search for the first
//    "-rotated" after the stem's first character, the regex's exact meaning.
//  - A user's pattern runs through std::regex, whose matcher recurses once per character
//    and overflowed the stack on a manifest row of 19 KB (fuzz_manifest, finding 9): a
//    stem longer than a file name can be (255 bytes) names no file, and is its own key.
//    A pattern is at most 1,000 characters (its compiler recurses on nesting).
// A bad pattern is a std::invalid_argument naming it.
class GroupPattern {
 public:
  explicit GroupPattern(const std::string& pattern = "");
  std::string key(const std::string& path) const;

 private:
  bool plain_ = true;  // the default pattern, searched without std::regex
  std::regex regex_;
};

}  // namespace radius
