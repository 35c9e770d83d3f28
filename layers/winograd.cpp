// F(2x2, 3x3) forward convolution (the derivation is in winograd.h).
//
// Per image, a block of output tiles at a time (winograd_block_tiles):
//   1. V [16][C][nb]: each input tile d (4x4, zeros outside the image) -> B^T d B;
//   2. M [16][K][nb] = U_xi [K, C] x V_xi [C, nb] for the 16 positions xi, on the
//      packed SGEMM with U_xi packed once per call (float) or on Eigen (double);
//   3. each tile's 16 values of M -> A^T M A: its 2x2 outputs (+ bias, ReLU),
//      written where they fall inside the output (an odd OH or OW leaves the
//      last tiles half outside).
// Threads take whole images, as conv2d_forward does; U is shared, read-only.
#include "layers/winograd.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "kernels/formulas.h"
#include "layers/gemm.h"
#include "tensor/eigen.h"
#include "tensor/parallel.h"

namespace radius {
namespace {

constexpr int64_t kPositions = 16;  // the 4x4 transformed tile

// U = G g G^T for one 3x3 filter g (row-major), written to u[xi * stride].
template <class T> void filter_transform(const T* g, T* u, int64_t stride) {
  T gg[4][3];  // G g: 4x3
  for (int j = 0; j < 3; ++j) {
    gg[0][j] = g[j];
    gg[1][j] = (g[j] + g[3 + j] + g[6 + j]) / T(2);
    gg[2][j] = (g[j] - g[3 + j] + g[6 + j]) / T(2);
    gg[3][j] = g[6 + j];
  }
  for (int i = 0; i < 4; ++i) {  // (G g) G^T: 4x4
    u[(i * 4 + 0) * stride] = gg[i][0];
    u[(i * 4 + 1) * stride] = (gg[i][0] + gg[i][1] + gg[i][2]) / T(2);
    u[(i * 4 + 2) * stride] = (gg[i][0] - gg[i][1] + gg[i][2]) / T(2);
    u[(i * 4 + 3) * stride] = gg[i][2];
  }
}

// V = B^T d B for a 4x4 input tile d (d[r][q]: row r, column q) on values of type V:
// one tile (float, double) or 16 tiles side by side (Vec16, below). The one place the
// input transform's arithmetic is written; out[xi] is position xi = 4 i + j.
template <class V> [[gnu::always_inline]] inline void input_transform(const V (&d)[4][4], V (&out)[kPositions]) {
  V bd[4][4];  // B^T d: combines rows
  for (int q = 0; q < 4; ++q) {
    bd[0][q] = d[0][q] - d[2][q];
    bd[1][q] = d[1][q] + d[2][q];
    bd[2][q] = d[2][q] - d[1][q];
    bd[3][q] = d[1][q] - d[3][q];
  }
  for (int i = 0; i < 4; ++i) {  // (B^T d) B: combines columns the same way
    out[i * 4 + 0] = bd[i][0] - bd[i][2];
    out[i * 4 + 1] = bd[i][1] + bd[i][2];
    out[i * 4 + 2] = bd[i][2] - bd[i][1];
    out[i * 4 + 3] = bd[i][1] - bd[i][3];
  }
}

// ---- 16 tiles at once, float: the compiler's 16-float vectors (one zmm, two ymm) ----
typedef float Vec16 __attribute__((vector_size(64)));

inline Vec16 load16(const float* p) {
  Vec16 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store16(float* p, Vec16 v) { std::memcpy(p, &v, sizeof v); }

// p[0..31] split into its even and odd elements.
inline void split16(const float* p, Vec16& even, Vec16& odd) {
  const Vec16 lo = load16(p), hi = load16(p + 16);
#if defined(__clang__)
  even = __builtin_shufflevector(lo, hi, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  odd = __builtin_shufflevector(lo, hi, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
#else
  typedef int Idx16 __attribute__((vector_size(64)));
  even = __builtin_shuffle(lo, hi, Idx16{0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30});
  odd = __builtin_shuffle(lo, hi, Idx16{1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31});
#endif
}

// input_transform_run for 16 tiles t0..t0+15 of a run (columns 2 t0 .. 2 t0 + 33 of
// the 4 rows must lie inside the image): tile t's columns 0-3 are the even and odd
// columns of its rows from 2t, then from 2t + 2.
inline void input_transform16(const float* src, int64_t ld, float* v, int64_t stride) {
  Vec16 d[4][4], out[kPositions];
  for (int r = 0; r < 4; ++r) {
    split16(src + r * ld, d[r][0], d[r][1]);
    split16(src + r * ld + 2, d[r][2], d[r][3]);
  }
  input_transform(d, out);
  for (int xi = 0; xi < kPositions; ++xi) store16(v + xi * stride, out[xi]);
}

// V = B^T d B for `run` tiles side by side in one tile row, all inside the image:
// tile t's 4x4 input starts at src + 2t (rows ld apart), its 16 values go to
// v[xi * stride + t]. Tile t reads columns 2t..2t+3 = even[t], odd[t],
// even[t + 1], odd[t + 1] of its rows, so each row is first split into its even
// and odd columns (contiguous); then the arithmetic, input_transform's with t
// innermost, reads and writes contiguous runs: the loop vectorizes.
template <class T>
void input_transform_run(const T* __restrict src, int64_t ld, int64_t run, T* __restrict v, int64_t stride,
                         std::vector<T>& split) {
  int64_t done = 0;
  if constexpr (std::is_same_v<T, float>)
    for (; done + 16 <= run; done += 16) input_transform16(src + 2 * done, ld, v + done, stride);
  if (done == run) return;
  src += 2 * done, v += done, run -= done;
  const int64_t len = run + 1;
  T* __restrict e = scratch(split, 8 * len);  // even[r] = e + 2r * len, odd[r] = e + (2r + 1) * len
  for (int r = 0; r < 4; ++r)
    for (int64_t j = 0; j < len; ++j) {
      e[2 * r * len + j] = src[r * ld + 2 * j];
      e[(2 * r + 1) * len + j] = src[r * ld + 2 * j + 1];  // column 2 run + 1: the last tile's last, inside
    }
  for (int64_t t = 0; t < run; ++t) {
    T d[4][4], out[kPositions];
#pragma GCC unroll 4
    for (int r = 0; r < 4; ++r)
#pragma GCC unroll 4
      for (int q = 0; q < 4; ++q)  // q = 0, 1, 2, 3: even[t], odd[t], even[t + 1], odd[t + 1]
        d[r][q] = e[(2 * r + (q & 1)) * len + t + (q >> 1)];
    input_transform(d, out);
#pragma GCC unroll 16
    for (int xi = 0; xi < kPositions; ++xi) v[xi * stride + t] = out[xi];
  }
}

// Y = A^T m A for each of nb tiles (their 16 values m[xi * stride + t]): 2x2 outputs each,
// y[(r * 2 + s) * nb + t]. Tile t of every position is contiguous: the loop vectorizes.
template <class T>
void output_transform_tiles(const T* __restrict m, int64_t stride, int64_t nb, T* __restrict y) {
  for (int64_t t = 0; t < nb; ++t) {
    T am[2][4];
    for (int j = 0; j < 4; ++j) {
      const T m0 = m[(0 * 4 + j) * stride + t], m1 = m[(1 * 4 + j) * stride + t], m2 = m[(2 * 4 + j) * stride + t],
              m3 = m[(3 * 4 + j) * stride + t];
      am[0][j] = m0 + m1 + m2;
      am[1][j] = m1 - m2 - m3;
    }
    for (int i = 0; i < 2; ++i) {
      y[(i * 2 + 0) * nb + t] = am[i][0] + am[i][1] + am[i][2];
      y[(i * 2 + 1) * nb + t] = am[i][1] - am[i][2] - am[i][3];
    }
  }
}

// Each tile's 2x2 outputs (+ bias, ReLU) to their places in one filter's output
// plane: tiles t0 .. t0 + nb, corners[(r * 2 + s) * nb + t]. A tile row's run of 16
// tiles whose outputs all lie inside is written as two rows of 32 contiguous floats
// (the s = 0 and s = 1 corners interleaved); the rest one value at a time.
template <class T>
void scatter_outputs(const Conv2dGeom& g, int64_t tiles_w, int64_t t0, int64_t nb, const T* corners, T bias,
                     bool relu, T* out) {
  for (int64_t t = 0; t < nb;) {
    const int64_t oi0 = (t0 + t) / tiles_w * 2, oj0 = (t0 + t) % tiles_w * 2;
    if constexpr (std::is_same_v<T, float>) {
      const bool fits = oj0 / 2 + 16 <= tiles_w && t + 16 <= nb && oi0 + 2 <= g.oh && oj0 + 32 <= g.ow;
      if (fits) {
        const Vec16 vb = Vec16{} + bias, zero = Vec16{};
        for (int r = 0; r < 2; ++r) {
          const Vec16 a = load16(corners + (r * 2 + 0) * nb + t) + vb, c = load16(corners + (r * 2 + 1) * nb + t) + vb;
#if defined(__clang__)
          Vec16 lo = __builtin_shufflevector(a, c, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
          Vec16 hi = __builtin_shufflevector(a, c, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
#else
          typedef int Idx16 __attribute__((vector_size(64)));
          Vec16 lo = __builtin_shuffle(a, c, Idx16{0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23});
          Vec16 hi = __builtin_shuffle(a, c, Idx16{8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31});
#endif
          if (relu) lo = lo > zero ? lo : zero, hi = hi > zero ? hi : zero;  // formula::relu, 16 at a time
          store16(out + (oi0 + r) * g.ow + oj0, lo);
          store16(out + (oi0 + r) * g.ow + oj0 + 16, hi);
        }
        t += 16;
        continue;
      }
    }
    for (int r = 0; r < 2 && oi0 + r < g.oh; ++r)
      for (int s = 0; s < 2 && oj0 + s < g.ow; ++s) {
        const T value = corners[(r * 2 + s) * nb + t] + bias;
        out[(oi0 + r) * g.ow + oj0 + s] = relu ? formula::relu(value) : value;
      }
    ++t;
  }
}

// M_xi = U_xi x V_xi for the 16 positions of one block of nb tiles.
template <class T>
void multiply_positions(const Conv2dGeom& g, const std::vector<PackedA>& packed, const T* u, const T* v, int64_t nb,
                        T* m) {
  for (int64_t xi = 0; xi < kPositions; ++xi) {
    const T* v_xi = v + xi * g.c * nb;
    T* m_xi = m + xi * g.k * nb;
    if constexpr (std::is_same_v<T, float>) {
      sgemm_packed(packed[size_t(xi)], Trans::no, nb, v_xi, nb, 0.0f, m_xi, nb);
    } else {
      RowMatMap<T>(m_xi, g.k, nb).noalias() =
          ConstRowMatMap<T>(u + xi * g.k * g.c, g.k, g.c) * ConstRowMatMap<T>(v_xi, g.c, nb);
    }
  }
}

}  // namespace

bool winograd_applies(const Conv2dGeom& g) { return g.kh == 3 && g.kw == 3 && g.stride == 1; }

int64_t winograd_block_tiles(const Conv2dGeom& g) {
  const int64_t tiles = ((g.oh + 1) / 2) * ((g.ow + 1) / 2);
  // 16 x (C + K) x nb floats of V and M in ~1 MB.
  const int64_t budget = std::clamp<int64_t>(16384 / (g.c + g.k), 16, 512) / 16 * 16;
  return std::min(budget, tiles);
}

template <class T>
void conv2d_forward_winograd(const Conv2dGeom& g, int64_t n, const T* x, const T* w, const T* b, T* y, bool relu) {
  if (!winograd_applies(g)) throw std::invalid_argument("conv2d_forward_winograd: needs a 3x3 kernel at stride 1");
  // U [16][K][C]: every filter transformed once per call.
  std::vector<T> u(size_t(kPositions * g.k * g.c));
  for (int64_t k = 0; k < g.k; ++k)
    for (int64_t c = 0; c < g.c; ++c) filter_transform(w + (k * g.c + c) * 9, u.data() + k * g.c + c, g.k * g.c);
  std::vector<PackedA> packed(std::is_same_v<T, float> ? size_t(kPositions) : 0);
  if constexpr (std::is_same_v<T, float>)
    for (int64_t xi = 0; xi < kPositions; ++xi)
      packed[size_t(xi)].pack(Trans::no, g.k, g.c, u.data() + xi * g.k * g.c, g.c);

  const int64_t tiles_w = (g.ow + 1) / 2, tiles = ((g.oh + 1) / 2) * tiles_w, step = winograd_block_tiles(g);
  const int64_t in_size = g.c * g.h * g.w, out_size = g.k * g.pixels();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    thread_local std::vector<T> v_buf, m_buf, corner_buf, split_buf;
    T* v = scratch(v_buf, kPositions * g.c * step);
    T* m = scratch(m_buf, kPositions * g.k * step);
    const T* x_i = x + i * in_size;
    T* y_i = y + i * out_size;
    for (int64_t t0 = 0; t0 < tiles; t0 += step) {
      const int64_t nb = std::min(step, tiles - t0);
      // 1. input tiles -> V, a run of tiles of one tile row at a time: where the
      // whole run lies inside the image, over all its tiles at once (a loop the
      // compiler vectorizes); else tile by tile with the edges tested.
      for (int64_t ta = 0; ta < nb;) {
        const int64_t row = (t0 + ta) / tiles_w, first_col = (t0 + ta) % tiles_w;
        const int64_t run = std::min(nb - ta, tiles_w - first_col);
        const int64_t row0 = row * 2 - g.pad_top, col0 = first_col * 2 - g.pad_left;
        const bool inside = row0 >= 0 && row0 + 4 <= g.h && col0 >= 0 && col0 + 2 * (run - 1) + 4 <= g.w;
        for (int64_t c = 0; c < g.c; ++c) {
          const T* plane = x_i + c * g.h * g.w;
          T* v_c = v + c * nb + ta;
          if (inside) {
            input_transform_run(plane + row0 * g.w + col0, g.w, run, v_c, g.c * nb, split_buf);
            continue;
          }
          for (int64_t t = 0; t < run; ++t) {
            T d[4][4], out[kPositions];
            for (int r = 0; r < 4; ++r)
              for (int q = 0; q < 4; ++q) {
                const int64_t ii = row0 + r, jj = col0 + 2 * t + q;
                d[r][q] = (ii >= 0 && ii < g.h && jj >= 0 && jj < g.w) ? plane[ii * g.w + jj] : T(0);
              }
            input_transform(d, out);
            for (int xi = 0; xi < kPositions; ++xi) v_c[xi * g.c * nb + t] = out[xi];
          }
        }
        ta += run;
      }
      // 2. the 16 GEMMs
      multiply_positions(g, packed, u.data(), v, nb, m);
      // 3. M -> outputs: the transform over all nb tiles of a filter at once (a
      // loop the compiler vectorizes: tile t of every position is contiguous),
      // then each tile's 2x2 values to their places in the output.
      T* const corners = scratch(corner_buf, 4 * nb);  // [r * 2 + s][t]
      for (int64_t k = 0; k < g.k; ++k) {
        output_transform_tiles(m + k * nb, g.k * nb, nb, corners);
        const T bias = b ? b[k] : T(0);
        T* out = y_i + k * g.pixels();
        scatter_outputs(g, tiles_w, t0, nb, corners, bias, relu, out);
      }
    }
  }
}

template void conv2d_forward_winograd<float>(const Conv2dGeom&, int64_t, const float*, const float*, const float*,
                                             float*, bool);
template void conv2d_forward_winograd<double>(const Conv2dGeom&, int64_t, const double*, const double*,
                                              const double*, double*, bool);

}  // namespace radius
