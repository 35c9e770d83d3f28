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

void SingleProcess::allreduce_sum_parts(const float* parts, int count, int64_t n, float* out) {
  sum_in_rank_order(parts, count, n, out);  // each element's parts are read before it is written: out may be parts
}
void SingleProcess::allreduce_sum_parts(const double* parts, int count, int64_t n, double* out) {
  sum_in_rank_order(parts, count, n, out);
}

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

void allreduce_sum_parts(Communicator& c, const Tensor& parts, int count, Tensor& out) {
  const int64_t n = out.numel();
  if (count > 0 && parts.numel() < int64_t(count) * n)
    throw std::invalid_argument("allreduce_sum_parts: " + std::to_string(count) + " parts of " + std::to_string(n) +
                                " need " + std::to_string(int64_t(count) * n) + " elements, got " +
                                std::to_string(parts.numel()));
  if (out.is_cpu()) return c.allreduce_sum_parts(count > 0 ? parts.cpu() : out.cpu(), count, n, out.cpu());
  if (count == 1 && c.sums_on_device()) {
    if (parts.data() != out.data()) out.copy_from(parts.slice(0, out.shape()));
    return c.allreduce_sum_device(out.data(), n);
  }
  const Tensor host_parts = count > 0 ? parts.to(Device::cpu) : Tensor::empty(Shape{n}, Device::cpu);
  Tensor host = Tensor::empty(Shape{n}, Device::cpu);
  c.allreduce_sum_parts(host_parts.cpu(), count, n, host.cpu());
  out.copy_from(host.to(out.device()));
}

void broadcast(Communicator& c, Tensor& t, int root) {
  if (c.size() == 1) return;
  if (t.is_cpu()) return c.broadcast(t.cpu(), t.numel() * int64_t(sizeof(float)), root);
  Tensor host = t.to(Device::cpu);
  c.broadcast(host.cpu(), host.numel() * int64_t(sizeof(float)), root);
  t.copy_from(host.to(t.device()));
}

}  // namespace radius
