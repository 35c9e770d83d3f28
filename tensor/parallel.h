// Thread count for the CPU backend: OpenMP loops and Eigen's GEMMs share it.
//
// Why training does not depend on it: floating-point addition is not associative,
// so a sum split into one partial per thread gives other bits on another thread
// count, and a training run then drifts apart step by step. Every parallel sum of a
// CPU training step is therefore cut into chunks fixed by the problem's size alone
// (fixed_chunks below): each chunk is summed in order by whichever thread runs it,
// and the chunk results are added in chunk order. Work without sums (elementwise
// loops, whole images, the columns of a GEMM: layers/gemm.h) may be split freely.
// tests/test_threads.cpp trains on 1, 2 and 4 threads and compares the bits.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

namespace radius {

void set_num_threads(int n);  // n <= 0: leave the OpenMP default (all cores)
int num_threads();

// [0, n) cut into count = min(n, max_chunks) contiguous ranges whose sizes differ
// by at most one (the first n % count are one longer): a function of n and
// max_chunks only, never of the thread count.
struct FixedChunks {
  int64_t n, count;
  FixedChunks(int64_t n_, int64_t max_chunks) : n(n_), count(std::clamp<int64_t>(n_, 0, max_chunks)) {}
  int64_t begin(int64_t c) const { return c * (n / count) + std::min(c, n % count); }
  int64_t end(int64_t c) const { return begin(c + 1); }
};

// A thread's work buffer (a thread_local vector of the caller's) of at least `size`
// elements: grown once and reused, so a steady state allocates nothing.
template <class T> T* scratch(std::vector<T>& buf, int64_t size) {
  if (int64_t(buf.size()) < size) buf.resize(size_t(size));
  return buf.data();
}

}  // namespace radius
