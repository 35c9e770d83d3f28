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
// The group key of a path: the pattern's first capture group (or whole match)
// on the file name without extension; the whole stem when it does not match.
std::string group_key(const std::string& path, const std::regex& pattern);

}  // namespace radius
