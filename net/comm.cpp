#include "net/comm.h"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace radius {

namespace {
Communicator* g_world = nullptr;

// x = 0 + x: the one-rank sum, so that -0 becomes +0 exactly as in R > 1.
template <class T>
void add_to_zero(T* data, int64_t n) {
  for (int64_t i = 0; i < n; ++i) data[i] = T(0) + data[i];
}
}  // namespace

void SingleProcess::allreduce_sum(float* data, int64_t n) { add_to_zero(data, n); }
void SingleProcess::allreduce_sum(double* data, int64_t n) { add_to_zero(data, n); }

void SingleProcess::abort(int exit_code) { std::exit(exit_code); }

void Communicator::allreduce_sum_device(float*, int64_t) {
  throw std::logic_error(describe() + ": no all-reduce on device memory (the caller stages through the host)");
}

Communicator& world() {
  static SingleProcess single;
  return g_world ? *g_world : single;
}

void set_world(Communicator* communicator) { g_world = communicator; }

void allreduce_sum(Communicator& c, Tensor& t) {
  if (t.is_cpu()) return c.allreduce_sum(t.cpu(), t.numel());
  if (c.size() == 1) return;  // one rank's sum is its data (up to the sign of a zero)
  if (c.sums_on_device()) return c.allreduce_sum_device(t.data(), t.numel());
  Tensor host = t.to(Device::cpu);
  c.allreduce_sum(host.cpu(), host.numel());
  t.copy_from(host.to(t.device()));
}

void broadcast(Communicator& c, Tensor& t, int root) {
  if (c.size() == 1) return;
  if (t.is_cpu()) return c.broadcast(t.cpu(), t.numel() * int64_t(sizeof(float)), root);
  Tensor host = t.to(Device::cpu);
  c.broadcast(host.cpu(), host.numel() * int64_t(sizeof(float)), root);
  t.copy_from(host.to(t.device()));
}

}  // namespace radius
