// "Did you mean ...?": the closest of a list of known words to a mistyped one, by edit
// distance, for the command line's unknown-command and unknown-option errors.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace radius::app {

// The edit distance (optimal string alignment): the fewest single-character insertions,
// deletions, substitutions and swaps of two neighbours that turn a into b
// ("trian" -> "train": 1, "--epoch" -> "--epochs": 1, "--lr" -> "--zoom": 4).
size_t edit_distance(const std::string& a, const std::string& b);

// The known word closest to `typed`, or "" when none is close enough to be a likely typo:
// at most a third of the typed word's length away (at least 1, at most 3), or the typed
// word being the start of exactly one known word (`--epo` -> `--epochs`). Ties go to the
// first in `known`.
std::string closest_match(const std::string& typed, const std::vector<std::string>& known);

}  // namespace radius::app
