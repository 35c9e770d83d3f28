// PNG/JPEG decoding, encoding and resizing. Unusual PNG variants are written with libpng
// directly (our encoder only makes 8-bit gray/RGB), then decoded and compared exactly.
#include <doctest/doctest.h>
#include <png.h>

#include <csetjmp>
#include <cstdio>  // before jpeglib.h
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <jpeglib.h>

#include "data/decode.h"
#include "data/encode.h"
#include "data/resize.h"
#include "tensor/rng.h"
#include "tests/temp_dir.h"

using namespace radius;
using radius::test::TempDir;

namespace {

void write_bytes(const std::string& path, std::span<const uint8_t> b) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
  REQUIRE(f.good());
}

// "v3.png"; built by appending, which also sidesteps a GCC 12 -Wrestrict false positive
// on "literal" + std::string.
std::string numbered(const char* prefix, int i, const char* ext) {
  std::string s = prefix;
  s += std::to_string(i);
  s += ext;
  return s;
}

Image random_image(int w, int h, int c, uint64_t seed) {
  Image img(w, h, c);
  Rng rng(seed, 1);
  for (auto& p : img.pixels) p = uint8_t(rng.next_u32());
  return img;
}

// Smooth content (waves + mild noise) that JPEG keeps close, so decode errors stand out.
Image smooth_image(int w, int h, int c, uint64_t seed) {
  Image img(w, h, c);
  Rng rng(seed, 2);
  float phase[3] = {rng.uniform(0, 6), rng.uniform(0, 6), rng.uniform(0, 6)};
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int k = 0; k < c; ++k)
        img.at(x, y, k) = uint8_t(128 + 50 * std::sin(0.07f * x + phase[k]) + 40 * std::cos(0.05f * y + 2 * phase[k]) +
                                  rng.uniform(-3, 3));
  return img;
}

double mean_abs_diff(const Image& a, const Image& b) {
  REQUIRE(a.width == b.width);
  REQUIRE(a.height == b.height);
  REQUIRE(a.channels == b.channels);
  double s = 0;
  for (size_t i = 0; i < a.pixels.size(); ++i) s += std::abs(int(a.pixels[i]) - int(b.pixels[i]));
  return s / double(a.pixels.size());
}

// ---- a raw libpng writer for every variant ------------------------------------------
struct PngSpec {
  int width, height, bit_depth, color_type;
  bool interlaced = false;
  bool header_only = false;  // IHDR and no image data: for the absurd-dimensions case
};

int samples_per_pixel(int color_type) {
  switch (color_type) {
    case PNG_COLOR_TYPE_GRAY_ALPHA: return 2;
    case PNG_COLOR_TYPE_RGB: return 3;
    case PNG_COLOR_TYPE_RGB_ALPHA: return 4;
    default: return 1;  // gray, palette
  }
}

// setjmp lives here and nothing with a destructor is created after it (see data/decode.cpp).
bool write_png_guarded(std::FILE* f, const PngSpec* s, png_bytepp rows, const png_color* palette, int n_palette,
                       const png_byte* trns, int n_trns) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return false;
  }
  png_init_io(png, f);
  png_set_IHDR(png, info, png_uint_32(s->width), png_uint_32(s->height), s->bit_depth, s->color_type,
               s->interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  if (n_palette) png_set_PLTE(png, info, palette, n_palette);
  if (n_trns) png_set_tRNS(png, info, trns, n_trns, nullptr);
  png_write_info(png, info);
  if (!s->header_only) {
    png_write_image(png, rows);
    png_write_end(png, nullptr);
  }
  png_destroy_write_struct(&png, &info);
  return true;
}

// Writes a random PNG of the given variant; returns what decoding must give (8-bit, 1 or 3 channels).
Image write_random_png(const std::string& path, const PngSpec& s, uint64_t seed) {
  Rng rng(seed, 3);
  const int spp = samples_per_pixel(s.color_type), depth = s.bit_depth;
  const bool colour = (s.color_type & PNG_COLOR_MASK_COLOR) != 0;
  const bool palette = s.color_type == PNG_COLOR_TYPE_PALETTE;
  std::vector<png_color> pal;
  std::vector<png_byte> trns;
  if (palette) {
    const int n = std::min(1 << depth, 200);
    for (int i = 0; i < n; ++i) {
      pal.push_back({png_byte(rng.next_u32()), png_byte(rng.next_u32()), png_byte(rng.next_u32())});
      trns.push_back(png_byte(rng.next_u32()));  // transparency must not leak into the pixels
    }
  }
  const size_t row_bytes = (size_t(s.width) * spp * depth + 7) / 8;
  std::vector<uint8_t> raw(row_bytes * s.height, 0);
  Image expected(s.width, s.height, colour ? 3 : 1);
  for (int y = 0; y < s.height; ++y) {
    uint8_t* row = raw.data() + y * row_bytes;
    for (int x = 0; x < s.width; ++x)
      for (int k = 0; k < spp; ++k) {
        const uint32_t v = palette ? rng.below(uint32_t(pal.size())) : rng.next_u32() & ((1u << depth) - 1);
        const size_t bit = (size_t(x) * spp + k) * depth;
        if (depth == 16) {
          row[bit / 8] = uint8_t(v >> 8);
          row[bit / 8 + 1] = uint8_t(v);
        } else {
          row[bit / 8] |= uint8_t(v << (8 - depth - bit % 8));  // MSB first
        }
        if (palette) {
          expected.at(x, y, 0) = pal[v].red;
          expected.at(x, y, 1) = pal[v].green;
          expected.at(x, y, 2) = pal[v].blue;
        } else if (k < (colour ? 3 : 1)) {
          expected.at(x, y, k) = depth >= 8 ? uint8_t(v >> (depth - 8)) : uint8_t(v * (255 / ((1 << depth) - 1)));
        }
      }
  }
  std::vector<png_bytep> rows(size_t(s.height));
  for (int y = 0; y < s.height; ++y) rows[y] = raw.data() + y * row_bytes;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  REQUIRE(f);
  const bool ok = write_png_guarded(f, &s, rows.data(), pal.data(), int(pal.size()), trns.data(),
                                    palette && depth == 8 ? int(trns.size()) : 0);
  std::fclose(f);
  REQUIRE(ok);
  return expected;
}

// CMYK JPEG written with libjpeg itself (it sets the Adobe marker, so values are stored inverted).
void write_cmyk_jpeg(const std::string& path, int w, int h, const uint8_t stored_cmyk[4]) {
  jpeg_compress_struct cinfo;
  jpeg_error_mgr jerr;
  cinfo.err = jpeg_std_error(&jerr);
  jpeg_create_compress(&cinfo);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  REQUIRE(f);
  jpeg_stdio_dest(&cinfo, f);
  cinfo.image_width = JDIMENSION(w);
  cinfo.image_height = JDIMENSION(h);
  cinfo.input_components = 4;
  cinfo.in_color_space = JCS_CMYK;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, 98, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  std::vector<uint8_t> row(size_t(w) * 4);
  for (int x = 0; x < w; ++x) std::memcpy(&row[size_t(x) * 4], stored_cmyk, 4);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW r = row.data();
    jpeg_write_scanlines(&cinfo, &r, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  std::fclose(f);
}

void check_fails(const std::string& path, DecodeFailure want, const std::string& also_in_message = "") {
  CAPTURE(path);
  try {
    decode_image(path, ColorMode::rgb);
    FAIL("decoded without an error");
  } catch (const DecodeError& e) {
    const std::string msg = e.what();
    CAPTURE(msg);
    CHECK(to_string(e.reason()) == to_string(want));
    CHECK(e.path() == path);
    CHECK(msg.find(path) != std::string::npos);
    CHECK(msg.find(to_string(want)) != std::string::npos);
    if (!also_in_message.empty()) CHECK(msg.find(also_in_message) != std::string::npos);
  }
}

size_t find_marker(const std::vector<uint8_t>& b, uint8_t a0, uint8_t a1) {
  for (size_t i = 0; i + 1 < b.size(); ++i)
    if (b[i] == a0 && b[i + 1] == a1) return i;
  FAIL("marker not found");
  return 0;
}

size_t find_text(const std::vector<uint8_t>& b, const char* s) {
  const size_t n = std::strlen(s);
  for (size_t i = 0; i + n <= b.size(); ++i)
    if (std::memcmp(b.data() + i, s, n) == 0) return i;
  FAIL("text not found");
  return 0;
}

}  // namespace

TEST_CASE("decode: every PNG variant decodes exactly (gray and rgb modes)") {
  TempDir dir("png_variants");
  const PngSpec specs[] = {
      {13, 7, 1, PNG_COLOR_TYPE_GRAY},         {13, 7, 2, PNG_COLOR_TYPE_GRAY},
      {13, 7, 4, PNG_COLOR_TYPE_GRAY},         {13, 7, 8, PNG_COLOR_TYPE_GRAY},
      {13, 7, 16, PNG_COLOR_TYPE_GRAY},        {13, 7, 8, PNG_COLOR_TYPE_GRAY_ALPHA},
      {13, 7, 16, PNG_COLOR_TYPE_GRAY_ALPHA},  {13, 7, 8, PNG_COLOR_TYPE_RGB},
      {13, 7, 16, PNG_COLOR_TYPE_RGB},         {13, 7, 8, PNG_COLOR_TYPE_RGB_ALPHA},
      {13, 7, 16, PNG_COLOR_TYPE_RGB_ALPHA},   {13, 7, 1, PNG_COLOR_TYPE_PALETTE},
      {13, 7, 4, PNG_COLOR_TYPE_PALETTE},      {13, 7, 8, PNG_COLOR_TYPE_PALETTE},  // with tRNS
      {17, 11, 8, PNG_COLOR_TYPE_GRAY, true},  {17, 11, 16, PNG_COLOR_TYPE_RGB, true},
      {17, 11, 4, PNG_COLOR_TYPE_PALETTE, true}, {17, 11, 8, PNG_COLOR_TYPE_GRAY_ALPHA, true},
  };
  int i = 0;
  for (const PngSpec& s : specs) {
    CAPTURE(s.bit_depth);
    CAPTURE(s.color_type);
    CAPTURE(s.interlaced);
    const std::string path = dir.file(numbered("v", i, ".png"));
    const Image expected = write_random_png(path, s, 100 + i++);
    const Image rgb = decode_image(path, ColorMode::rgb), gray = decode_image(path, ColorMode::gray);
    CHECK(rgb.channels == 3);
    CHECK(gray.channels == 1);
    CHECK(rgb.pixels == convert_channels(expected, 3).pixels);
    CHECK(gray.pixels == convert_channels(expected, 1).pixels);
  }
}

TEST_CASE("decode: gray from colour uses PIL's ITU-R 601 luma") {
  CHECK(luma601(255, 0, 0) == 76);  // PIL: Image.new("RGB", (1, 1), (255, 0, 0)).convert("L") -> 76
  CHECK(luma601(0, 255, 0) == 150);
  CHECK(luma601(0, 0, 255) == 29);
  CHECK(luma601(255, 255, 255) == 255);
  CHECK(luma601(10, 200, 30) == 124);
}

TEST_CASE("encode: PNG gray and RGB round trip exactly, atomically") {
  TempDir dir("png_encode");
  for (int c : {1, 3}) {
    const Image img = random_image(31, 17, c, 7 + c);
    const std::string path = dir.file(numbered("e", c, ".png"));
    encode_png(img, path);
    const Image back = decode_image(path, c == 1 ? ColorMode::gray : ColorMode::rgb);
    CHECK(back.width == 31);
    CHECK(back.height == 17);
    CHECK(back.pixels == img.pixels);
  }
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path)) files += e.path().extension() == ".png" ? 1 : 100;
  CHECK(files == 2);  // no temporary left behind
  CHECK_THROWS_AS(encode_png(Image(), dir.file("empty.png")), std::invalid_argument);
  CHECK_THROWS_AS(encode_png(Image(4, 4, 1), (dir.path / "missing" / "x.png").string()), std::runtime_error);
}

TEST_CASE("decode: JPEG gray, colour and progressive decode close to the source") {
  TempDir dir("jpeg");
  const Image gray = smooth_image(64, 48, 1, 1), colour = smooth_image(64, 48, 3, 2);

  encode_jpeg(gray, dir.file("g.jpg"), 95);
  const Image g = decode_image(dir.file("g.jpg"), ColorMode::gray);
  CHECK(mean_abs_diff(g, gray) < 2.0);
  const Image g3 = decode_image(dir.file("g.jpg"), ColorMode::rgb);
  CHECK(g3.pixels == convert_channels(g, 3).pixels);

  encode_jpeg(colour, dir.file("c.jpg"), 95);
  const Image c = decode_image(dir.file("c.jpg"), ColorMode::rgb);
  CHECK(mean_abs_diff(c, colour) < 3.0);
  // Gray from a colour JPEG = luma of the decoded RGB, as PIL's convert("L") after decoding.
  CHECK(decode_image(dir.file("c.jpg"), ColorMode::gray).pixels == convert_channels(c, 1).pixels);

  for (const Image* src : {&gray, &colour}) {
    const std::vector<uint8_t> bytes = encode_jpeg_bytes(*src, 92, /*progressive=*/true);
    find_marker(bytes, 0xFF, 0xC2);  // really progressive (SOF2)
    const Image p = decode_image_bytes(bytes, src->channels == 1 ? ColorMode::gray : ColorMode::rgb, "p.jpg");
    CHECK(mean_abs_diff(p, *src) < 3.0);
  }
}

TEST_CASE("decode: CMYK JPEG is converted like PIL") {
  TempDir dir("cmyk");
  const uint8_t ink[4] = {40, 200, 90, 30};  // C, M, Y, K
  const uint8_t stored[4] = {uint8_t(255 - ink[0]), uint8_t(255 - ink[1]), uint8_t(255 - ink[2]),
                             uint8_t(255 - ink[3])};  // Adobe files store inverted values
  write_cmyk_jpeg(dir.file("cmyk.jpg"), 16, 16, stored);
  const Image img = decode_image(dir.file("cmyk.jpg"), ColorMode::rgb);
  for (int k = 0; k < 3; ++k) {
    const double want = (255.0 - ink[k]) * (255.0 - ink[3]) / 255.0;
    CHECK(std::abs(img.at(8, 8, k) - want) <= 3.0);
  }
}

TEST_CASE("decode: broken files throw DecodeError naming the file and the reason") {
  TempDir dir("broken");
  const std::vector<uint8_t> png = encode_png_bytes(random_image(40, 30, 3, 11));
  const std::vector<uint8_t> jpg = encode_jpeg_bytes(smooth_image(40, 30, 3, 12), 90);
  const std::vector<uint8_t> pjpg = encode_jpeg_bytes(smooth_image(40, 30, 1, 13), 90, true);
  auto put = [&](const std::string& name, std::vector<uint8_t> bytes) {
    write_bytes(dir.file(name), bytes);
    return dir.file(name);
  };

  SUBCASE("cannot open") {
    check_fails(dir.file("missing.png"), DecodeFailure::cannot_open, "No such file");
    check_fails(dir.path.string(), DecodeFailure::cannot_open, "directory");
  }
  SUBCASE("zero-byte") { check_fails(put("empty.jpg", {}), DecodeFailure::empty_file); }
  SUBCASE("unknown format shows the magic") {
    check_fails(put("gif.png", {'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0}), DecodeFailure::unknown_format,
                "47 49 46 38 39 61");
    check_fails(put("gif2.png", {'G', 'I', 'F', '8', '9', 'a', 1, 0}), DecodeFailure::unknown_format, "GIF");
    std::vector<uint8_t> noise(100);
    Rng rng(5, 5);
    for (auto& b : noise) b = uint8_t(rng.next_u32() | 1);  // never zero, never a JPEG 0xFF 0xD8 start
    noise[0] = 0x13;
    check_fails(put("noise.jpg", noise), DecodeFailure::unknown_format, "13 ");
  }
  SUBCASE("PNG truncated at several points") {
    for (size_t cut : {size_t(4), size_t(20), size_t(40), png.size() / 2, png.size() - 5}) {
      CAPTURE(cut);
      check_fails(put("cut" + std::to_string(cut) + ".png", {png.begin(), png.begin() + long(cut)}),
                  DecodeFailure::truncated);
    }
  }
  SUBCASE("JPEG truncated at several points") {
    for (size_t cut : {size_t(2), size_t(100), jpg.size() / 2, jpg.size() - 10}) {
      CAPTURE(cut);
      check_fails(put("cut" + std::to_string(cut) + ".jpg", {jpg.begin(), jpg.begin() + long(cut)}),
                  DecodeFailure::truncated);
    }
    check_fails(put("pcut.jpg", {pjpg.begin(), pjpg.begin() + long(pjpg.size() * 6 / 10)}), DecodeFailure::truncated);
  }
  SUBCASE("a JPEG missing only its EOI marker is complete and decodes") {
    const Image whole = decode_image_bytes(jpg, ColorMode::rgb, "whole");
    const Image no_eoi = decode_image(put("noeoi.jpg", {jpg.begin(), jpg.end() - 2}), ColorMode::rgb);
    CHECK(no_eoi.pixels == whole.pixels);
  }
  SUBCASE("bit flips") {
    std::vector<uint8_t> b = png;
    b[17] ^= 0x04;  // IHDR width: the chunk CRC no longer matches
    check_fails(put("ihdr.png", b), DecodeFailure::corrupt, "CRC");
    b = png;
    b[find_text(b, "IDAT") + 10] ^= 0x20;
    check_fails(put("idat.png", b), DecodeFailure::corrupt);
    b = png;
    b[1] ^= 0x01;  // 'P' -> 'Q'
    check_fails(put("magic.png", b), DecodeFailure::unknown_format);
    b = jpg;
    b[find_marker(b, 0xFF, 0xC0) + 9] ^= 0x80;  // SOF component count 3 -> 131
    check_fails(put("sof.jpg", b), DecodeFailure::corrupt);
    b = jpg;
    b[find_marker(b, 0xFF, 0xC0) + 4] ^= 0x04;  // sample precision 8 -> 12
    check_fails(put("prec.jpg", b), DecodeFailure::unsupported, "precision");
  }
  SUBCASE("absurd dimensions are refused from the header") {
    // A PNG whose IHDR claims 30000x30000 and that has no pixel data at all: the size check
    // must come first, or the decoder would report truncation (or try to allocate 900 MB).
    const PngSpec bomb{30000, 30000, 8, PNG_COLOR_TYPE_GRAY, false, true};
    std::FILE* f = std::fopen(dir.file("bomb.png").c_str(), "wb");
    REQUIRE(f);
    REQUIRE(write_png_guarded(f, &bomb, nullptr, nullptr, 0, nullptr, 0));
    std::fclose(f);
    check_fails(dir.file("bomb.png"), DecodeFailure::too_large, "30000x30000");

    std::vector<uint8_t> b = jpg;
    const size_t sof = find_marker(b, 0xFF, 0xC0);
    b[sof + 5] = b[sof + 7] = uint8_t(30000 >> 8);
    b[sof + 6] = b[sof + 8] = uint8_t(30000 & 0xFF);
    check_fails(put("bomb.jpg", b), DecodeFailure::too_large, "30000x30000");
    b[sof + 5] = uint8_t(6000 >> 8);  // 10000 wide x 6000 high: each side fine, 60 MP too many
    b[sof + 6] = uint8_t(6000 & 0xFF);
    b[sof + 7] = uint8_t(10000 >> 8);
    b[sof + 8] = uint8_t(10000 & 0xFF);
    check_fails(put("wide.jpg", b), DecodeFailure::too_large, "10000x6000");
  }
}

TEST_CASE("detect_format looks at magic bytes, not names") {
  const std::vector<uint8_t> png = encode_png_bytes(random_image(3, 3, 1, 1));
  const std::vector<uint8_t> jpg = encode_jpeg_bytes(random_image(8, 8, 1, 2));
  CHECK(detect_format(png) == ImageFormat::png);
  CHECK(detect_format(jpg) == ImageFormat::jpeg);
  CHECK(detect_format(std::vector<uint8_t>{'B', 'M', 0, 0}) == ImageFormat::unknown);
  TempDir dir("magic");
  write_bytes(dir.file("really_png.jpg"), png);  // wrong extension still decodes
  CHECK(decode_image(dir.file("really_png.jpg"), ColorMode::gray).pixels ==
        decode_image_bytes(png, ColorMode::gray, "x").pixels);
}

// ---- resize ------------------------------------------------------------------------

namespace {
Image row_image(std::vector<uint8_t> v) {
  Image img(int(v.size()), 1, 1);
  img.pixels = std::move(v);
  return img;
}
}  // namespace

TEST_CASE("resize nearest: PIL's floor((dst + 0.5) * in / out)") {
  CHECK(resize(row_image({10, 20, 30, 40}), 2, 1, Interpolation::nearest).pixels == std::vector<uint8_t>{20, 40});
  CHECK(resize(row_image({10, 20, 30}), 2, 1, Interpolation::nearest).pixels == std::vector<uint8_t>{10, 30});
  CHECK(resize(row_image({10, 20}), 5, 1, Interpolation::nearest).pixels ==
        std::vector<uint8_t>{10, 10, 20, 20, 20});
  // 2-D, RGB: 3x2 -> 2x3; columns {0, 2}, rows {0, 1, 1}.
  Image img(3, 2, 3);
  for (size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = uint8_t(i * 7 + 1);
  const Image out = resize(img, 2, 3, Interpolation::nearest);
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 2; ++x)
      for (int c = 0; c < 3; ++c) CHECK(out.at(x, y, c) == img.at(x * 2, y == 0 ? 0 : 1, c));
  // A 1-px line survives only where the sample grid lands on it: the reason synthetic
  // fractures are drawn several pixels wide.
  std::vector<uint8_t> line(300, 0);
  line[100] = 255;
  int hits = 0;
  for (uint8_t v : resize(row_image(line), 150, 1, Interpolation::nearest).pixels) hits += v;
  CHECK(hits == 0);  // samples land on odd columns only: 1, 3, 5, ...
}

TEST_CASE("resize bilinear: PIL's triangle filter, hand-computed") {
  // Enlarging: half-pixel centres, edges clamped: [0, 100] -> [0, 25, 75, 100].
  CHECK(resize(row_image({0, 100}), 4, 1, Interpolation::bilinear).pixels == std::vector<uint8_t>{0, 25, 75, 100});
  // Shrinking 4 -> 2: support 2, weights 3/7, 3/7, 1/7 and 1/7, 3/7, 3/7 (antialiased):
  // 200/7 = 28.6 -> 29 and 640/7 = 91.4 -> 91.
  CHECK(resize(row_image({0, 40, 80, 120}), 2, 1, Interpolation::bilinear).pixels == std::vector<uint8_t>{29, 91});
  // 2x2 -> 1x1 averages; horizontal pass first, then vertical.
  Image sq(2, 2, 1);
  sq.pixels = {0, 100, 50, 250};
  CHECK(resize(sq, 1, 1, Interpolation::bilinear).pixels == std::vector<uint8_t>{100});
  // Same size: an exact copy.
  const Image r = random_image(5, 4, 3, 9);
  CHECK(resize(r, 5, 4, Interpolation::bilinear).pixels == r.pixels);
  CHECK_THROWS_AS(resize(r, 0, 4, Interpolation::nearest), std::invalid_argument);
}

TEST_CASE("resize: bit-exact with Pillow 11 on a 2-D case") {
  // Values printed by Pillow 11.3.0: Image.fromarray(a).resize((3, 4), NEAREST / BILINEAR)
  // for a[y][x] = (37x + 91y + 13xy) % 256, 7 wide, 5 high. (Running the vertical pass first
  // would change 4 of the bilinear values: pass order matters.)
  Image img(7, 5, 1);
  for (int y = 0; y < 5; ++y)
    for (int x = 0; x < 7; ++x) img.at(x, y) = uint8_t((37 * x + 91 * y + 13 * x * y) % 256);
  CHECK(resize(img, 3, 4, Interpolation::nearest).pixels ==
        std::vector<uint8_t>{37, 111, 185, 141, 241, 85, 93, 245, 141, 197, 119, 41});
  CHECK(resize(img, 3, 4, Interpolation::bilinear).pixels ==
        std::vector<uint8_t>{58, 125, 166, 154, 151, 120, 123, 153, 155, 117, 132, 120});
}
