// Communicator: what data-parallel training needs from the processes it runs in.
//
//   Communicator& c = world();           // the process's (single-process unless main set one)
//   c.allreduce_sum(grads.data(), n);    // every rank: 0 + g_0 + g_1 + ... + g_{R-1}, in rank order
//
// Rank order is the point. Floating-point addition is not associative, so an
// all-reduce whose order depends on the library's algorithm choice (ring, tree,
// recursive halving, chosen by message size and rank count) gives bits that change
// with R. Every sum here starts from +0 and adds rank 0's contribution, then rank 1's,
// ..., exactly what one process accumulating R micro-batches in order computes
// (net/train.h): so R ranks train the same weights, bit for bit, as
// `--micro-batches R` in one process. (A sum that starts from +0 is never -0, so
// ranks that contribute +0, e.g. ranks without images, do not change a single bit.)
//
// Implementations: SingleProcess (here; R = 1, every call a copy or nothing), MPI
// (mpi/mpi_communicator.h, built with -DRADIUS_MPI=ON) and, in a CUDA build with NCCL,
// the same sums on device buffers (mpi/nccl_communicator.h). The core library never
// links MPI: only the radius program and the radius_mpi library do.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kernels/rank_sum.h"
#include "tensor/tensor.h"

namespace radius {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string describe() const = 0;  // "1 process", "MPI, 4 ranks"

  // In place, on host memory, same n on every rank: data = 0 + x_0 + ... + x_{R-1}.
  virtual void allreduce_sum(float* data, int64_t n) = 0;
  virtual void allreduce_sum(double* data, int64_t n) = 0;
  // Several contributions per rank: `parts` holds this rank's `count` (0 or more) vectors of
  // n, [count][n]; out[n] (may be parts itself) = 0 + every rank's parts, rank 0's in order,
  // then rank 1's, ... So a rank that runs several micro-batches sends each one's gradient
  // and the sum is still the micro-batched process's, micro-batch by micro-batch.
  virtual void allreduce_sum_parts(const float* parts, int count, int64_t n, float* out) = 0;
  virtual void allreduce_sum_parts(const double* parts, int count, int64_t n, double* out) = 0;
  // Device memory (a CUDA build): the same rank-order sum without a host copy, when the
  // implementation can (NCCL). The default stages through the host.
  virtual bool sums_on_device() const { return false; }
  virtual void allreduce_sum_device(float* /*data*/, int64_t /*n*/);
  // root's bytes into every rank's `data` (same size everywhere).
  virtual void broadcast(void* data, int64_t bytes, int root) = 0;
  // Every rank's string, in rank order, on every rank (sizes may differ).
  virtual std::vector<std::string> allgather(const std::string& data) = 0;
  virtual void barrier() = 0;
  // Collective: the ranks that pass the same `color` form a new communicator, ranked as
  // here (MPI_Comm_split). k-fold runs each fold on its own group of ranks.
  virtual std::unique_ptr<Communicator> split(int color) = 0;
  // Ends every rank of the job (after a rank failed: the others would wait forever).
  [[noreturn]] virtual void abort(int exit_code) = 0;
};

// One process: rank 0 of 1. Sums and broadcasts leave the data as it is.
class SingleProcess final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string describe() const override { return "1 process"; }
  void allreduce_sum(float* data, int64_t n) override;
  void allreduce_sum(double* data, int64_t n) override;
  void allreduce_sum_parts(const float* parts, int count, int64_t n, float* out) override;
  void allreduce_sum_parts(const double* parts, int count, int64_t n, double* out) override;
  void allreduce_sum_device(float*, int64_t) override {}
  void broadcast(void*, int64_t, int) override {}
  std::vector<std::string> allgather(const std::string& data) override { return {data}; }
  void barrier() override {}
  std::unique_ptr<Communicator> split(int) override { return std::make_unique<SingleProcess>(); }
  [[noreturn]] void abort(int exit_code) override;
};

// The process's communicator: SingleProcess until set_world() (the radius program sets
// the MPI one when started by mpirun or srun). set_world keeps the pointer, not a copy.
Communicator& world();
void set_world(Communicator* communicator);  // nullptr: back to the single process

// world() is `communicator` while this lives (a k-fold fold trained by its group of ranks).
class ScopedWorld {
 public:
  explicit ScopedWorld(Communicator* communicator) : saved_(&world()) { set_world(communicator); }
  ~ScopedWorld() { set_world(saved_); }
  ScopedWorld(const ScopedWorld&) = delete;
  ScopedWorld& operator=(const ScopedWorld&) = delete;

 private:
  Communicator* saved_;
};

// A tensor's rank-order sum on its own device (CUDA tensors go through the host unless
// the communicator sums on the device).
void allreduce_sum(Communicator& c, Tensor& t);
// out (n elements) = the sum of every rank's `count` parts ([count * n] in `parts`, on out's
// device), as Communicator::allreduce_sum_parts. parts may be out itself when count is 1.
void allreduce_sum_parts(Communicator& c, const Tensor& parts, int count, Tensor& out);
// A tensor (any device) from `root` to every rank.
void broadcast(Communicator& c, Tensor& t, int root);

// The rank-order sum of one rank's contributions, laid out [R][n] (rank r's at r * n),
// into out[n]: out = 0 + x_0 + ... Implementations share it, so the bits are one function's.
// (The formula: kernels/rank_sum.h, shared with the CUDA kernel.)
template <class T>
void sum_in_rank_order(const T* contributions, int ranks, int64_t n, T* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = rank_order_sum(contributions, ranks, n, i);
}

}  // namespace radius
