// Moments of a range of floats, accumulated in double and mergeable: one definition
// for the CPU loop and the CUDA reduction kernel (kernels/reduce.cu), so both compute
// the same statistics in the same way and differ only in summation order.
//
// push() adds one value (Welford's update for the mean and the squared deviations);
// merge() joins two disjoint ranges (Chan et al.'s pairwise formula). Both are exact
// in the counts and min/max, and stable for the spread even when the mean is large
// (no E[x^2] - mean^2 cancellation).
#pragma once
#include <cfloat>
#include <cstdint>

#ifdef __CUDACC__
#define RADIUS_MOMENTS_FN __host__ __device__ __forceinline__
#else
#define RADIUS_MOMENTS_FN inline
#endif

namespace radius {

struct Moments {
  int64_t count = 0;
  double mean = 0;     // of the values
  double m2 = 0;       // sum of (v - mean)^2
  double sum_sq = 0;   // sum of v^2 (norms)
  double min = DBL_MAX, max = -DBL_MAX;  // (of an empty range: DBL_MAX, -DBL_MAX); NaNs are skipped (counted in nonfinite)
  int64_t zeros = 0;      // v == 0
  int64_t positives = 0;  // v > 0
  int64_t nonfinite = 0;  // NaN or +-inf

  double sum() const { return mean * double(count); }
  double variance() const { return count > 0 ? m2 / double(count) : 0.0; }  // population
};

RADIUS_MOMENTS_FN void push(Moments& m, double v) {
  m.count += 1;
  const double delta = v - m.mean;
  m.mean += delta / double(m.count);
  m.m2 += delta * (v - m.mean);
  m.sum_sq += v * v;
  if (v < m.min) m.min = v;  // false for NaN: NaNs leave min/max alone
  if (v > m.max) m.max = v;
  m.zeros += v == 0.0;
  m.positives += v > 0.0;
  m.nonfinite += !(v - v == 0.0);  // NaN - NaN and inf - inf are NaN
}

// a := a followed by b (disjoint ranges).
RADIUS_MOMENTS_FN void merge(Moments& a, const Moments& b) {
  if (b.count == 0) return;
  if (a.count == 0) {
    a = b;
    return;
  }
  const double n = double(a.count + b.count), delta = b.mean - a.mean;
  a.mean += delta * (double(b.count) / n);
  a.m2 += b.m2 + delta * delta * (double(a.count) * double(b.count) / n);
  a.count += b.count;
  a.sum_sq += b.sum_sq;
  if (b.min < a.min) a.min = b.min;
  if (b.max > a.max) a.max = b.max;
  a.zeros += b.zeros;
  a.positives += b.positives;
  a.nonfinite += b.nonfinite;
}

}  // namespace radius
