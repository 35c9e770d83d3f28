// A small bitmap font for chart text, so PNG charts need no font library.
//
// Printable ASCII (32..126), each glyph 5 columns x 9 rows in a 6-wide cell:
// rows 0-6 stand on the baseline (capitals and digits are 7 rows tall,
// lower case 5), rows 7-8 hold descenders (g, j, p, q, y, comma). Each row
// is a byte whose bit 4 is the leftmost column. Characters outside the set
// draw as a hollow box, so a missing glyph is visible rather than silent.
#pragma once
#include <cstdint>
#include <string_view>

namespace radius::font {

constexpr int kGlyphWidth = 5;  // columns of ink
constexpr int kAdvance = 6;     // cell width: one blank column between letters
constexpr int kRows = 9;        // rows per glyph
constexpr int kAscent = 7;      // rows above (and on) the baseline
constexpr int kDescent = kRows - kAscent;

// The 9 row bytes of c's glyph.
const uint8_t* glyph(char c);

// Width in font pixels (before scaling) of a one-line string.
inline int text_width(std::string_view s) { return s.empty() ? 0 : int(s.size()) * kAdvance - 1; }

}  // namespace radius::font
