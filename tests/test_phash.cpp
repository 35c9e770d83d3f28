#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "data/decode.h"
#include "data/encode.h"
#include "data/phash.h"
#include "data/resize.h"
#include "data/synth.h"

#include "tests/synth_util.h"

using namespace radius;

namespace {

using test::radiograph;  // tests/synth_util.h (small sizes keep the tests fast; the hash sees 32x32)

}  // namespace

TEST_CASE("phash: the 8 symmetry variants match rotated and mirrored images") {
  const Image img = radiograph(3, 180, 140);
  const PhashSet set = phash_set(img);
  auto mirror = [](const Image& in) {
    Image out(in.width, in.height, in.channels);
    for (int y = 0; y < in.height; ++y)
      for (int x = 0; x < in.width; ++x) out.at(in.width - 1 - x, y) = in.at(x, y);
    return out;
  };
  const Image variants[8] = {img,         rotate90(img, 1),         rotate90(img, 2),         rotate90(img, 3),
                             mirror(img), rotate90(mirror(img), 1), rotate90(mirror(img), 2), rotate90(mirror(img), 3)};
  for (int s = 0; s < 8; ++s) {
    CAPTURE(to_string(Symmetry(s)));
    const uint64_t h = phash(variants[s]);
    // The transformed image's hash is the predicted variant, up to resize rounding at the median.
    CHECK(hamming(h, set.variant[size_t(s)]) <= 2);
    Symmetry which{};
    CHECK(hamming_any_symmetry(set.variant[0], phash_set(variants[s]), &which) <= 2);
    // Details line up under the same convention: the transformed image is the original under s.
    const ImageSignature sa = image_signature(variants[s]), sb = image_signature(img);
    CHECK(detail_similarity(sa, sb, Symmetry(s)) > 0.99f);
    CHECK(hamming(sa.phash.variant[0], sb.phash.variant[size_t(s)]) <= 2);
  }
  CHECK(std::popcount(set.variant[0]) == 31);  // median split of 63 coefficients
  CHECK((set.variant[0] & 1) == 0);            // the DC slot stays 0
  // A flat image hashes to 0 (no noise bits), so blank images pair with each other.
  Image flat(50, 40, 1);
  std::fill(flat.pixels.begin(), flat.pixels.end(), uint8_t(117));
  CHECK(phash(flat) == 0);
}

TEST_CASE("phash: edited copies stay close, distinct radiographs are told apart") {
  // The distributions behind the default thresholds (NearSearchOptions{}): the hash
  // distance (minimum over the 8 symmetries) and the detail correlation, between distinct
  // synthetic radiographs and between edited copies of them.
  const NearSearchOptions defaults;
  const int n = 240;
  SynthParams p;  // the generator's own sizes (180-320 px)
  std::vector<Image> images;
  std::vector<ImageSignature> sigs;
  for (int i = 0; i < n; ++i) {
    images.push_back(render_radiograph(p, 5, uint64_t(i), i % 2 == 0));
    sigs.push_back(image_signature(images.back()));
  }
  // Distinct pairs: the hash alone brings some together; the detail never confirms them.
  std::map<int, int> histogram;
  int closest = 64;
  float most_similar = -1;
  for (int i = 0; i < n; ++i)
    for (int j = i + 1; j < n; ++j) {
      Symmetry s{};
      const int d = hamming_any_symmetry(sigs[size_t(i)].phash.variant[0], sigs[size_t(j)].phash, &s);
      histogram[d]++;
      closest = std::min(closest, d);
      if (d <= defaults.max_distance)
        for (int k = 0; k < 8; ++k)
          most_similar = std::max(most_similar, detail_similarity(sigs[size_t(i)], sigs[size_t(j)], Symmetry(k)));
    }
  std::string low;
  for (const auto& [d, count] : histogram)
    if (d <= 16) low.append(" ").append(std::to_string(d)).append(":").append(std::to_string(count));
  MESSAGE((n * (n - 1) / 2) << " distinct pairs: hash distance histogram (distance:pairs)" << low
                          << "; highest detail correlation among hash candidates " << most_similar);
  CHECK(closest <= defaults.max_distance);  // why the hash alone is not enough
  CHECK(most_similar < defaults.min_similarity - 0.02f);

  // Edited copies: every one within both thresholds, under the symmetry that made it.
  int worst_distance = 0;
  float worst_similarity = 1;
  for (int i = 0; i < n; i += 6) {
    const Image& img = images[size_t(i)];
    const Image copies[] = {
        decode_image_bytes(encode_jpeg_bytes(img, 60), ColorMode::gray, "q60"),
        decode_image_bytes(encode_jpeg_bytes(img, 30), ColorMode::gray, "q30"),
        resize(img, img.width * 9 / 10, img.height * 9 / 10, Interpolation::bilinear),
        resize(img, img.width * 11 / 10, img.height * 11 / 10, Interpolation::nearest),
        decode_image_bytes(encode_jpeg_bytes(rotate90(img, 1), 75), ColorMode::gray, "rot90 q75"),
        convert_channels(rotate90(img, 2), 3),
    };
    for (const Image& c : copies) {
      const ImageSignature sc = image_signature(c);
      const NearSearchResult r = find_near_pairs({sigs[size_t(i)], sc}, {}, {});
      REQUIRE(r.pairs.size() == 1);
      worst_distance = std::max(worst_distance, r.pairs[0].distance);
      worst_similarity = std::min(worst_similarity, r.pairs[0].similarity);
    }
  }
  MESSAGE("edited copies: farthest hash distance " << worst_distance << ", lowest detail correlation "
                                                   << worst_similarity);
  CHECK(worst_similarity > defaults.min_similarity);

  // The search finds no pair among the distinct images.
  const NearSearchResult all = find_near_pairs(sigs, {}, {});
  CHECK(all.pairs.empty());
  CHECK(all.candidates > 0);
  CHECK(all.comparisons == uint64_t(n) * (n - 1) / 2);
}

TEST_CASE("phash: find_near_pairs honours the mask, the symmetry switch and the pair limit") {
  const Image img = radiograph(9, 150, 120);
  const ImageSignature a = image_signature(img), turned = image_signature(rotate90(img, 1));
  const ImageSignature other = image_signature(radiograph(10, 150, 120));
  const std::vector<ImageSignature> sigs = {a, other, turned, a, a};
  NearSearchOptions o;
  NearSearchResult r = find_near_pairs(sigs, {}, o);
  CHECK(r.pairs.size() == 6);  // {0, 2, 3, 4} pairwise; 1 is a different image
  CHECK_FALSE(r.truncated);
  for (const NearPairHit& h : r.pairs) {
    CHECK(h.a < h.b);
    CHECK(h.a != 1);
    CHECK(h.b != 1);
  }
  const auto* hit = &r.pairs[0];  // (0, 2): the turned copy
  CHECK(hit->a == 0);
  CHECK(hit->b == 2);
  CHECK(hit->symmetry == Symmetry::rot270);  // three more quarter turns bring it back
  CHECK(hit->similarity > 0.99f);

  r = find_near_pairs(sigs, {true, true, true, false, false}, o);
  CHECK(r.pairs.size() == 1);
  o.symmetries = false;
  r = find_near_pairs(sigs, {true, true, true, false, false}, o);
  CHECK(r.pairs.empty());
  o.symmetries = true;
  o.max_pairs = 2;
  r = find_near_pairs(sigs, {}, o);
  CHECK(r.pairs.size() == 2);
  CHECK(r.truncated);
}
