// Does a nuisance attribute predict the class? File format, colour mode, bit depth and
// image size should carry no label information; when they do, a CNN can learn the
// shortcut (all fractured images PNG, all others JPEG) and its test accuracy means little.
//
// Two measures, both on the same scale whatever the class balance:
//  - Cramer's V of the class x value table (0: independent, 1: the value determines the
//    class), for categorical attributes;
//  - the balanced accuracy (mean per-class recall; chance = 1 / classes) of the best rule
//    that looks at the attribute alone: value -> class for a categorical attribute, one
//    threshold on a numeric one (a decision stump). On the training data itself, so an
//    upper bound: with few samples a stump fits noise (see kMinPerClass).
//
// Warning rule: V > 0.5 or balanced accuracy > 0.8 (chance is 0.5 with two classes), when
// every class compared has at least kMinPerClass samples. Both bounds are conventions: V >
// 0.5 is a "strong" association in Cohen's scale for a 2x2 table; 0.8 balanced accuracy from
// a single nuisance attribute is more than many honest models reach on the real signal.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace radius {

inline constexpr double kWarnCramersV = 0.5;
inline constexpr double kWarnBalancedAccuracy = 0.8;
inline constexpr int64_t kMinPerClass = 10;

struct Association {
  std::string attribute;
  std::vector<std::string> values;           // the columns, sorted
  std::vector<std::vector<int64_t>> counts;  // [class][value]
  double cramers_v = 0;
  double balanced_accuracy = 0;  // of the best value -> class rule
  std::vector<int> predicted;    // that rule: class per value (-1 when no sample has it)
  double chance = 0;             // 1 / (classes with samples)
  bool enough_data = false;      // every class present has >= kMinPerClass samples
  bool warn = false;
};

// labels[i] in [0, num_classes); values[i] the attribute of sample i.
Association associate(const std::string& attribute, const std::vector<int>& labels,
                      const std::vector<std::string>& values, int num_classes);

struct Stump {
  std::string attribute;
  double threshold = 0;                    // x <= threshold -> below_class, else above_class
  int below_class = -1, above_class = -1;  // -1: no useful cut (balanced accuracy = chance)
  double balanced_accuracy = 0;
  double chance = 0;
  bool enough_data = false;
  bool warn = false;
};

// The single threshold on x that best separates the classes, by balanced accuracy.
// O(n log n + n * classes).
Stump best_stump(const std::string& attribute, const std::vector<int>& labels, const std::vector<double>& x,
                 int num_classes);

}  // namespace radius
