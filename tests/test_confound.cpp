#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "data/confound.h"

using namespace radius;

TEST_CASE("confound: Cramer's V and balanced accuracy on known tables, stumps") {
  std::vector<int> y;
  std::vector<std::string> perfect, independent;
  for (int i = 0; i < 40; ++i) {
    y.push_back(i < 30 ? 0 : 1);  // imbalanced: 30 vs 10
    perfect.push_back(i < 30 ? "png" : "jpeg");
    independent.push_back(i % 2 ? "png" : "jpeg");
  }
  const Association a = associate("format", y, perfect, 2);
  CHECK(a.cramers_v == doctest::Approx(1.0));
  CHECK(a.balanced_accuracy == doctest::Approx(1.0));
  CHECK(a.enough_data);
  CHECK(a.warn);
  CHECK(a.values == std::vector<std::string>{"jpeg", "png"});
  CHECK(a.counts[0] == std::vector<int64_t>{0, 30});
  const Association b = associate("format", y, independent, 2);
  CHECK(b.cramers_v == doctest::Approx(0.0));
  CHECK(b.balanced_accuracy == doctest::Approx(0.5));
  CHECK_FALSE(b.warn);
  // A single value: nothing to predict with.
  const Association c = associate("format", y, std::vector<std::string>(40, "png"), 2);
  CHECK(c.cramers_v == 0);
  CHECK(c.balanced_accuracy == doctest::Approx(0.5));
  // Too few per class: reported, not warned.
  const Association d = associate("format", {0, 0, 1, 1}, {"a", "a", "b", "b"}, 2);
  CHECK(d.cramers_v == doctest::Approx(1.0));
  CHECK_FALSE(d.enough_data);
  CHECK_FALSE(d.warn);

  std::vector<double> size, noise;
  for (int i = 0; i < 40; ++i) {
    size.push_back(y[size_t(i)] ? 100 + i : 300 + i);  // class 1 smaller
    noise.push_back(double((i * 7) % 40));
  }
  const Stump s = best_stump("pixels", y, size, 2);
  CHECK(s.balanced_accuracy == doctest::Approx(1.0));
  CHECK(s.below_class == 1);
  CHECK(s.above_class == 0);
  CHECK(s.threshold > 139);
  CHECK(s.threshold < 300);
  CHECK(s.warn);
  const Stump t = best_stump("noise", y, noise, 2);
  CHECK(t.balanced_accuracy < 0.8);
  CHECK_FALSE(t.warn);
}
