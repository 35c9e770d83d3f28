#include <doctest/doctest.h>

#include <array>
#include <map>
#include <set>

#include "data/splits.h"
#include "tensor/rng.h"

using namespace radius;

namespace {
std::vector<int> imbalanced_labels(int n, uint64_t seed) {  // ~75 % class 0, like the paper's test set
  Rng rng(seed, 1);
  std::vector<int> labels(static_cast<size_t>(n));
  for (int& l : labels) l = rng.uniform() < 0.75f ? 0 : 1;
  return labels;
}
}  // namespace

TEST_CASE("k-fold without groups is exactly stratified, covers every sample once, and is seeded") {
  const std::vector<int> labels = imbalanced_labels(1001, 3);
  const int k = 5;
  const std::vector<int> folds = kfold_assign(labels, {}, k, 42);
  std::map<int, std::array<int, 2>> count;
  for (size_t i = 0; i < labels.size(); ++i) count[folds[i]][size_t(labels[i])]++;
  CHECK(count.size() == size_t(k));
  int total0 = 0, total1 = 0;
  for (int l : labels) (l ? total1 : total0)++;
  for (auto& [fold, c] : count) {
    CHECK(std::abs(c[0] - total0 / double(k)) <= 1.0);
    CHECK(std::abs(c[1] - total1 / double(k)) <= 1.0);
  }
  CHECK(kfold_assign(labels, {}, k, 42) == folds);
  CHECK(kfold_assign(labels, {}, k, 43) != folds);
}

TEST_CASE("group k-fold never splits a group and stays near-stratified") {
  // 190 "radiographs", each with 1-12 rotated copies of one class.
  Rng rng(7, 2);
  std::vector<int> labels;
  std::vector<std::string> groups;
  for (int g = 0; g < 190; ++g) {
    const int label = rng.uniform() < 0.63f ? 0 : 1;
    const int copies = 1 + int(rng.below(12));
    for (int c = 0; c < copies; ++c) {
      labels.push_back(label);
      groups.push_back(std::to_string(g));
    }
  }
  const int k = 5;
  const std::vector<int> folds = kfold_assign(labels, groups, k, 11);
  std::map<std::string, std::set<int>> folds_of_group;
  for (size_t i = 0; i < labels.size(); ++i) folds_of_group[groups[i]].insert(folds[i]);
  for (auto& [g, f] : folds_of_group) CHECK(f.size() == 1);
  std::vector<std::array<double, 2>> count(size_t(k), {0, 0});
  for (size_t i = 0; i < labels.size(); ++i) count[size_t(folds[i])][size_t(labels[i])]++;
  for (int f = 0; f < k; ++f) {
    const double n = count[size_t(f)][0] + count[size_t(f)][1];
    CHECK(n == doctest::Approx(double(labels.size()) / k).epsilon(0.1));
    CHECK(count[size_t(f)][0] / n == doctest::Approx(0.63).epsilon(0.15));
  }
}

TEST_CASE("train/val/test split honours the weights per class") {
  const std::vector<int> labels = imbalanced_labels(2000, 5);
  const std::vector<int> bins = assign_bins(labels, {}, {0.7, 0.15, 0.15}, 1);
  std::array<std::array<int, 2>, 3> c{};
  std::array<int, 2> total{};
  for (size_t i = 0; i < labels.size(); ++i) {
    c[size_t(bins[i])][size_t(labels[i])]++;
    total[size_t(labels[i])]++;
  }
  for (int cls = 0; cls < 2; ++cls) {
    CHECK(std::abs(c[0][size_t(cls)] - 0.7 * total[size_t(cls)]) <= 1.0);
    CHECK(std::abs(c[1][size_t(cls)] - 0.15 * total[size_t(cls)]) <= 1.0);
  }
}

TEST_CASE("group keys: Kaggle's rotated copies share the base name") {
  const GroupPattern p;  // the default, a plain search
  CHECK(p.key("train/fractured/12-rotated1-rotated2.jpg") == "12");
  CHECK(p.key("train/not fractured/12-rotated3.png") == "12");
  CHECK(p.key("val/fractured/image7.jpg") == "image7");  // no match: the stem
  CHECK(GroupPattern("patient_(\\d+)").key("a/patient_33_view2.png") == "33");
  // The plain search means what the regex means, on every stem.
  const std::regex regex(default_group_pattern());
  const GroupPattern as_regex("(?:)^(.+?)-rotated");  // the same pattern, written so std::regex runs it
  for (const char* stem : {"12-rotated1-rotated2", "-rotated", "-rotated-rotated", "x-rotated", "rotated", "a-rotate",
                           "", "ab-rotatedc", "--rotated"}) {
    CAPTURE(stem);
    const std::string path = std::string("d/") + stem + ".png";
    CHECK(p.key(path) == as_regex.key(path));
  }
  // A stem longer than a file name can be is its own key (std::regex's matcher recursed per character).
  const std::string long_stem(20000, 'x');
  CHECK(GroupPattern("(x+)-y").key("d/" + long_stem + ".png") == long_stem);
  CHECK(p.key("d/" + long_stem + "-rotated2.png") == long_stem);
  CHECK_THROWS_AS(GroupPattern("(unclosed"), std::invalid_argument);
  CHECK_THROWS_AS(GroupPattern(std::string(1001, '(')), std::invalid_argument);
}

TEST_CASE("splits reject nonsense with a reason") {
  CHECK_THROWS_WITH_AS(kfold_assign({0, 1}, {}, 1, 0), doctest::Contains("at least 2"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(assign_bins({0, 1}, {"a"}, {1.0}, 0), doctest::Contains("group keys"), std::invalid_argument);
  CHECK_THROWS_AS(assign_bins({0, 1}, {}, {1.0, 0.0}, 0), std::invalid_argument);
}

TEST_CASE("k-fold with k = the smallest class's images (or groups) puts that class in every fold") {
  // What `radius kfold` relies on when it accepts k up to the smallest class's count.
  Rng rng(21, 3);
  const int k = 4;
  std::vector<int> labels;
  std::vector<std::string> groups;
  for (int g = 0; g < 30; ++g) {  // 4 groups of class 1, 26 of class 0, 1-5 copies each
    const int label = g < k ? 1 : 0;
    const int copies = 1 + int(rng.below(5));
    for (int c = 0; c < copies; ++c) {
      labels.push_back(label);
      groups.push_back(std::to_string(g));
    }
  }
  for (const bool grouped : {false, true}) {
    CAPTURE(grouped);
    std::vector<int> l = labels;
    std::vector<std::string> gr = grouped ? groups : std::vector<std::string>{};
    if (!grouped) {  // exactly k images of class 1
      l.assign(labels.size(), 0);
      for (int i = 0; i < k; ++i) l[size_t(i) * 5] = 1;
    }
    const std::vector<int> folds = kfold_assign(l, gr, k, 5);
    std::vector<std::array<int, 2>> count(size_t(k), {0, 0});
    for (size_t i = 0; i < l.size(); ++i) count[size_t(folds[i])][size_t(l[i])]++;
    for (int f = 0; f < k; ++f) {
      CHECK(count[size_t(f)][0] > 0);
      CHECK(count[size_t(f)][1] > 0);
    }
  }
}
