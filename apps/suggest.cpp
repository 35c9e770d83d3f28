#include "apps/suggest.h"

#include <algorithm>

namespace radius::app {

size_t edit_distance(const std::string& a, const std::string& b) {
  // d[i][j] = distance(a[0..i), b[0..j)); words on a command line are short, so the whole table is cheap.
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      // Two neighbours swapped ("trian") is one slip of the fingers, not two substitutions.
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

std::string closest_match(const std::string& typed, const std::vector<std::string>& known) {
  const size_t allowed = std::clamp<size_t>(typed.size() / 3, 1, 3);
  std::string best;
  size_t best_distance = allowed + 1;
  for (const std::string& word : known) {
    const size_t d = edit_distance(typed, word);
    if (d < best_distance) best = word, best_distance = d;
  }
  if (!best.empty()) return best;
  // A word cut short: the one known word it starts.
  std::string prefix_of;
  for (const std::string& word : known)
    if (typed.size() >= 3 && word.rfind(typed, 0) == 0) {
      if (!prefix_of.empty()) return "";
      prefix_of = word;
    }
  return prefix_of;
}

}  // namespace radius::app
