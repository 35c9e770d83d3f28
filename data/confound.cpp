#include "data/confound.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace radius {

namespace {

std::vector<int64_t> class_totals(const std::vector<int>& labels, int num_classes) {
  std::vector<int64_t> n(size_t(num_classes), 0);
  for (int y : labels) {
    if (y < 0 || y >= num_classes) throw std::invalid_argument("confound: label out of range");
    n[size_t(y)]++;
  }
  return n;
}

// Classes with samples, and whether each has enough to judge.
void presence(const std::vector<int64_t>& totals, int* present, bool* enough) {
  *present = 0;
  *enough = true;
  for (int64_t t : totals)
    if (t > 0) {
      ++*present;
      *enough &= t >= kMinPerClass;
    }
  if (*present < 2) *enough = false;  // one class: nothing to confound
}

}  // namespace

Association associate(const std::string& attribute, const std::vector<int>& labels,
                      const std::vector<std::string>& values, int num_classes) {
  if (labels.size() != values.size()) throw std::invalid_argument("associate: labels and values differ in length");
  Association a;
  a.attribute = attribute;
  a.values = values;
  std::sort(a.values.begin(), a.values.end());
  a.values.erase(std::unique(a.values.begin(), a.values.end()), a.values.end());
  const std::vector<int64_t> totals = class_totals(labels, num_classes);
  a.counts.assign(size_t(num_classes), std::vector<int64_t>(a.values.size(), 0));
  for (size_t i = 0; i < labels.size(); ++i) {
    const size_t v = size_t(std::lower_bound(a.values.begin(), a.values.end(), values[i]) - a.values.begin());
    a.counts[size_t(labels[i])][v]++;
  }
  int present = 0;
  presence(totals, &present, &a.enough_data);
  a.chance = present ? 1.0 / present : 0;
  const double n = double(labels.size());

  // Chi-square over the rows and columns that have samples.
  std::vector<int64_t> col(a.values.size(), 0);
  for (const auto& row : a.counts)
    for (size_t v = 0; v < row.size(); ++v) col[v] += row[v];
  double chi2 = 0;
  for (size_t c = 0; c < totals.size(); ++c)
    for (size_t v = 0; v < col.size(); ++v) {
      if (!totals[c] || !col[v]) continue;
      const double expected = double(totals[c]) * double(col[v]) / n;
      const double d = double(a.counts[c][v]) - expected;
      chi2 += d * d / expected;
    }
  const int k = int(std::count_if(col.begin(), col.end(), [](int64_t x) { return x > 0; }));
  const int dof = std::min(present, k) - 1;
  a.cramers_v = dof > 0 ? std::sqrt(chi2 / (n * dof)) : 0;

  // The balanced-accuracy-optimal rule: each value goes to the class whose share of it is largest.
  a.predicted.assign(a.values.size(), -1);
  double recall_sum = 0;
  for (size_t v = 0; v < a.values.size(); ++v) {
    double best = -1;
    for (size_t c = 0; c < totals.size(); ++c) {
      if (!totals[c]) continue;
      const double share = double(a.counts[c][v]) / double(totals[c]);
      if (share > best) best = share, a.predicted[v] = int(c);
    }
    if (col[v]) recall_sum += best;
  }
  a.balanced_accuracy = present ? recall_sum / present : 0;
  a.warn = a.enough_data && (a.cramers_v > kWarnCramersV || a.balanced_accuracy > kWarnBalancedAccuracy);
  return a;
}

Stump best_stump(const std::string& attribute, const std::vector<int>& labels, const std::vector<double>& x,
                 int num_classes) {
  if (labels.size() != x.size()) throw std::invalid_argument("best_stump: labels and values differ in length");
  Stump s;
  s.attribute = attribute;
  const std::vector<int64_t> totals = class_totals(labels, num_classes);
  int present = 0;
  presence(totals, &present, &s.enough_data);
  s.chance = present ? 1.0 / present : 0;
  s.balanced_accuracy = s.chance;
  if (present < 2) return s;

  std::vector<size_t> order(x.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::sort(order.begin(), order.end(), [&](size_t i, size_t j) { return x[i] < x[j]; });
  std::vector<int64_t> left(size_t(num_classes), 0);
  for (size_t r = 0; r + 1 < order.size(); ++r) {
    left[size_t(labels[order[r]])]++;
    if (x[order[r]] == x[order[r + 1]]) continue;  // cut only between distinct values
    // Each side predicts the class with the largest share of its own total on that side.
    int below = -1, above = -1;
    double best_below = -1, best_above = -1;
    for (size_t c = 0; c < totals.size(); ++c) {
      if (!totals[c]) continue;
      const double lb = double(left[c]) / double(totals[c]), ab = 1.0 - lb;
      if (lb > best_below) best_below = lb, below = int(c);
      if (ab > best_above) best_above = ab, above = int(c);
    }
    const double bacc = below == above ? s.chance : (best_below + best_above) / present;
    if (bacc > s.balanced_accuracy + 1e-12) {
      s.balanced_accuracy = bacc;
      s.threshold = 0.5 * (x[order[r]] + x[order[r + 1]]);
      s.below_class = below;
      s.above_class = above;
    }
  }
  s.warn = s.enough_data && s.balanced_accuracy > kWarnBalancedAccuracy;
  return s;
}

}  // namespace radius
