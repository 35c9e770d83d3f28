#include "data/phash.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <numbers>

#include "data/resize.h"

namespace radius {

namespace {

constexpr int kThumb = 32;  // thumbnail side
constexpr int kBlock = 8;   // low-frequency block side

// cos(pi (2x + 1) k / 2N) for k < 8, x < 32: the DCT-II basis, unnormalised (scale is
// irrelevant to a median threshold).
const std::array<std::array<float, kThumb>, kBlock>& dct_basis() {
  static const auto table = [] {
    std::array<std::array<float, kThumb>, kBlock> t{};
    for (int k = 0; k < kBlock; ++k)
      for (int x = 0; x < kThumb; ++x)
        t[size_t(k)][size_t(x)] = float(std::cos(std::numbers::pi * (2 * x + 1) * k / (2.0 * kThumb)));
    return t;
  }();
  return table;
}

// Threshold 63 AC coefficients (block[0] is DC, skipped) at their median.
uint64_t threshold_block(const std::array<float, 64>& block) {
  std::array<float, 63> ac;
  std::copy(block.begin() + 1, block.end(), ac.begin());
  std::nth_element(ac.begin(), ac.begin() + 31, ac.end());
  const float median = ac[31];
  uint64_t h = 0;
  for (int k = 1; k < 64; ++k)
    if (block[size_t(k)] > median) h |= uint64_t(1) << k;
  return h;
}

// The coefficient block of the image transformed by s: C'(v, u) from C(v, u), derived from
// DCT-II symmetry (reversal along x multiplies by (-1)^u, along y by (-1)^v; a quarter turn
// counter-clockwise is a transpose then a reversal of y).
std::array<float, 64> transform_block(const std::array<float, 64>& c, Symmetry s) {
  std::array<float, 64> out{};
  for (int v = 0; v < kBlock; ++v)
    for (int u = 0; u < kBlock; ++u) {
      const float same = c[size_t(v * kBlock + u)];  // C(u, v)
      const float swap = c[size_t(u * kBlock + v)];  // C(v, u)
      const float su = (u & 1) ? -1.f : 1.f, sv = (v & 1) ? -1.f : 1.f;
      float x = 0;
      switch (s) {
        case Symmetry::identity: x = same; break;
        case Symmetry::rot90: x = sv * swap; break;
        case Symmetry::rot180: x = su * sv * same; break;
        case Symmetry::rot270: x = su * swap; break;
        case Symmetry::mirror: x = su * same; break;
        case Symmetry::mirror_rot90: x = swap; break;
        case Symmetry::mirror_rot180: x = sv * same; break;
        case Symmetry::mirror_rot270: x = su * sv * swap; break;
      }
      out[size_t(v * kBlock + u)] = x;
    }
  return out;
}

}  // namespace

const char* to_string(Symmetry s) {
  switch (s) {
    case Symmetry::identity: return "identity";
    case Symmetry::rot90: return "rot90";
    case Symmetry::rot180: return "rot180";
    case Symmetry::rot270: return "rot270";
    case Symmetry::mirror: return "mirror";
    case Symmetry::mirror_rot90: return "mirror+rot90";
    case Symmetry::mirror_rot180: return "mirror+rot180";
    case Symmetry::mirror_rot270: return "mirror+rot270";
  }
  return "?";
}

namespace {

Image thumbnail(const Image& img) {
  if (img.channels == 1) return resize(img, kThumb, kThumb, Interpolation::bilinear);
  return resize(convert_channels(img, 1), kThumb, kThumb, Interpolation::bilinear);
}

std::array<float, 64> coefficients_of_thumbnail(const Image& thumb) {
  const auto& basis = dct_basis();
  // Rows first: R(y, u) = sum_x f(x, y) cos_u(x); then C(v, u) = sum_y R(y, u) cos_v(y).
  std::array<std::array<float, kBlock>, kThumb> rows{};
  for (int y = 0; y < kThumb; ++y)
    for (int u = 0; u < kBlock; ++u) {
      float s = 0;
      for (int x = 0; x < kThumb; ++x) s += float(thumb.at(x, y)) * basis[size_t(u)][size_t(x)];
      rows[size_t(y)][size_t(u)] = s;
    }
  std::array<float, 64> c{};
  for (int v = 0; v < kBlock; ++v)
    for (int u = 0; u < kBlock; ++u) {
      float s = 0;
      for (int y = 0; y < kThumb; ++y) s += rows[size_t(y)][size_t(u)] * basis[size_t(v)][size_t(y)];
      c[size_t(v * kBlock + u)] = s / float(kThumb * kThumb);
    }
  // Rounding noise on a flat image must not decide bits: such terms count as exactly 0.
  for (int k = 1; k < 64; ++k)
    if (std::fabs(c[size_t(k)]) < 1e-3f) c[size_t(k)] = 0;
  return c;
}

PhashSet phash_set_of_coefficients(const std::array<float, 64>& c) {
  PhashSet set;
  for (int s = 0; s < 8; ++s) set.variant[size_t(s)] = threshold_block(transform_block(c, Symmetry(s)));
  return set;
}

// The thumbnail minus its 5x5 local mean (clamped to the image), then zero mean, unit norm.
std::array<float, kDetailSide * kDetailSide> detail_of_thumbnail(const Image& t) {
  static_assert(kDetailSide == kThumb);
  constexpr int n = kThumb;
  std::array<float, n * n> d{};
  for (int y = 0; y < n; ++y)
    for (int x = 0; x < n; ++x) {
      int sum = 0, count = 0;
      for (int yy = std::max(0, y - 2); yy <= std::min(n - 1, y + 2); ++yy)
        for (int xx = std::max(0, x - 2); xx <= std::min(n - 1, x + 2); ++xx) sum += t.at(xx, yy), ++count;
      d[size_t(y * n + x)] = float(t.at(x, y)) - float(sum) / float(count);
    }
  double mean = 0, norm = 0;
  for (float v : d) mean += v;
  mean /= double(d.size());
  for (float& v : d) v = float(v - mean), norm += double(v) * v;
  if (norm < 1e-6) return {};  // flat: no structure to compare
  const float scale = float(1.0 / std::sqrt(norm));
  for (float& v : d) v *= scale;
  return d;
}

// perm[s][i]: the index of b's detail that lands on position i when b is transformed by s,
// with the conventions of rotate90 (counter-clockwise quarter turns) and a left-right mirror.
const std::array<std::array<uint16_t, kThumb * kThumb>, 8>& symmetry_permutations() {
  static const auto table = [] {
    constexpr int n = kThumb;
    std::array<std::array<uint16_t, n * n>, 8> t{};
    for (int s = 0; s < 8; ++s) {
      const bool mirror = s >= 4;
      const int turns = s % 4;
      for (int y = 0; y < n; ++y)
        for (int x = 0; x < n; ++x) {
          // Undo the turns (out(x, y) = in(n-1-y, x) per counter-clockwise turn), then the mirror.
          int sx = x, sy = y;
          for (int k = 0; k < turns; ++k) {
            const int px = n - 1 - sy, py = sx;
            sx = px, sy = py;
          }
          if (mirror) sx = n - 1 - sx;
          t[size_t(s)][size_t(y * n + x)] = uint16_t(sy * n + sx);
        }
    }
    return t;
  }();
  return table;
}

}  // namespace

std::array<float, 64> phash_coefficients(const Image& img) { return coefficients_of_thumbnail(thumbnail(img)); }

PhashSet phash_set(const Image& img) { return phash_set_of_coefficients(phash_coefficients(img)); }

ImageSignature image_signature(const Image& img) {
  const Image t = thumbnail(img);
  ImageSignature sig;
  sig.phash = phash_set_of_coefficients(coefficients_of_thumbnail(t));
  sig.detail = detail_of_thumbnail(t);
  return sig;
}

float detail_similarity(const ImageSignature& a, const ImageSignature& b, Symmetry s) {
  const auto& perm = symmetry_permutations()[size_t(s)];
  float sum = 0;
  for (size_t i = 0; i < perm.size(); ++i) sum += a.detail[i] * b.detail[perm[i]];
  return sum;
}

int hamming_any_symmetry(uint64_t a, const PhashSet& b, Symmetry* which) {
  int best = 65, arg = 0;
  for (int s = 0; s < 8; ++s) {
    const int d = hamming(a, b.variant[size_t(s)]);
    if (d < best) best = d, arg = s;
  }
  if (which) *which = Symmetry(arg);
  return best;
}

NearSearchResult find_near_pairs(const std::vector<ImageSignature>& signatures, const std::vector<bool>& use,
                                 const NearSearchOptions& options) {
  // Compact the hashes that take part, so the inner loop is a plain array scan.
  std::vector<uint32_t> ids;
  for (size_t i = 0; i < signatures.size(); ++i)
    if (use.empty() || use[i]) ids.push_back(uint32_t(i));
  const int64_t n = int64_t(ids.size());
  const int variants = options.symmetries ? 8 : 1;
  std::vector<uint64_t> first(static_cast<size_t>(n));
  std::vector<uint64_t> all(static_cast<size_t>(n) * size_t(variants));
  for (int64_t i = 0; i < n; ++i) {
    const PhashSet& h = signatures[ids[size_t(i)]].phash;
    first[size_t(i)] = h.variant[0];
    for (int s = 0; s < variants; ++s) all[size_t(i * variants + s)] = h.variant[size_t(s)];
  }
  const int t = options.max_distance;

  NearSearchResult result;
  result.comparisons = uint64_t(n) * uint64_t(n > 0 ? n - 1 : 0) / 2;
  std::vector<std::vector<NearPairHit>> per_row(static_cast<size_t>(n));
  std::atomic<size_t> found{0};  // a bound on memory when the thresholds are far too loose
  std::atomic<uint64_t> candidates{0};
  // Rows get shorter as i grows; dynamic scheduling in chunks evens out the work.
  const int threads = options.threads > 0 ? options.threads : omp_get_max_threads();
#pragma omp parallel for schedule(dynamic, 16) num_threads(threads)
  for (int64_t i = 0; i < n; ++i) {
    if (found.load(std::memory_order_relaxed) > options.max_pairs) continue;
    const uint64_t a = first[size_t(i)];
    const ImageSignature& sa = signatures[ids[size_t(i)]];
    std::vector<NearPairHit>& out = per_row[size_t(i)];
    uint64_t checked = 0;
    for (int64_t j = i + 1; j < n; ++j) {
      const uint64_t* b = &all[size_t(j * variants)];
      int best = 64;
      for (int s = 0; s < variants; ++s) best = std::min(best, std::popcount(a ^ b[s]));
      if (best > t) continue;
      // A candidate: confirm by the details under each symmetry the hash allows.
      ++checked;
      const ImageSignature& sb = signatures[ids[size_t(j)]];
      NearPairHit hit{ids[size_t(i)], ids[size_t(j)], 64, -2.f, Symmetry::identity};
      for (int s = 0; s < variants; ++s) {
        const int d = std::popcount(a ^ b[s]);
        if (d > t) continue;
        const float sim = options.min_similarity <= -1.f ? 1.f : detail_similarity(sa, sb, Symmetry(s));
        if (sim > hit.similarity || (sim == hit.similarity && d < hit.distance))
          hit.similarity = sim, hit.distance = d, hit.symmetry = Symmetry(s);
      }
      if (hit.similarity >= options.min_similarity) out.push_back(hit);
    }
    candidates += checked;
    found += out.size();
  }
  if (found > options.max_pairs) result.truncated = true;
  result.candidates = candidates;
  for (auto& row : per_row) {
    if (result.pairs.size() + row.size() > options.max_pairs) {
      result.pairs.insert(result.pairs.end(), row.begin(), row.begin() + long(options.max_pairs - result.pairs.size()));
      result.truncated = true;
      break;
    }
    result.pairs.insert(result.pairs.end(), row.begin(), row.end());
  }
  return result;
}

}  // namespace radius
