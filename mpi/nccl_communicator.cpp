#include "mpi/nccl_communicator.h"

#include <cuda_runtime.h>
#include <nccl.h>

#include <cstdlib>
#include <stdexcept>
#include <string>

#include "kernels/rank_sum.h"
#include "kernels/runtime.h"

namespace radius {

namespace {

void check_nccl(ncclResult_t rc, const char* what) {
  if (rc != ncclSuccess) throw std::runtime_error(std::string(what) + " failed: " + ncclGetErrorString(rc));
}

// This process's index among the ranks on its node, from the launcher (0 when unknown).
int local_rank() {
  for (const char* v : {"OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID", "MPI_LOCALRANKID"})
    if (const char* s = std::getenv(v)) return std::atoi(s);
  return 0;
}

class NcclCommunicator final : public Communicator {
 public:
  explicit NcclCommunicator(std::unique_ptr<Communicator> host) : host_(std::move(host)) {
    int devices = 0;
    if (cudaGetDeviceCount(&devices) == cudaSuccess && devices > 0)
      RADIUS_CUDA_CHECK(cudaSetDevice(local_rank() % devices));  // before any model moves to the GPU
    else
      (void)cudaGetLastError();  // no GPU: a CPU run; the NCCL path is never taken
  }
  ~NcclCommunicator() override {
    if (nccl_) ncclCommDestroy(nccl_);
  }
  NcclCommunicator(const NcclCommunicator&) = delete;
  NcclCommunicator& operator=(const NcclCommunicator&) = delete;

  int rank() const override { return host_->rank(); }
  int size() const override { return host_->size(); }
  std::string describe() const override { return host_->describe() + ", device sums through NCCL"; }
  void allreduce_sum(float* data, int64_t n) override { host_->allreduce_sum(data, n); }
  void allreduce_sum(double* data, int64_t n) override { host_->allreduce_sum(data, n); }
  void allreduce_sum_parts(const float* parts, int count, int64_t n, float* out) override {
    host_->allreduce_sum_parts(parts, count, n, out);
  }
  void allreduce_sum_parts(const double* parts, int count, int64_t n, double* out) override {
    host_->allreduce_sum_parts(parts, count, n, out);
  }
  void broadcast(void* data, int64_t bytes, int root) override { host_->broadcast(data, bytes, root); }
  std::vector<std::string> allgather(const std::string& data) override { return host_->allgather(data); }
  void barrier() override { host_->barrier(); }
  std::unique_ptr<Communicator> split(int color) override { return host_->split(color); }  // host sums only
  [[noreturn]] void abort(int exit_code) override {
    host_->abort(exit_code);
    std::_Exit(exit_code);  // not reached: the host communicator's abort does not return
  }

  bool sums_on_device() const override { return true; }

  void allreduce_sum_device(float* data, int64_t n) override {
    if (!nccl_) connect();
    const int R = size(), me = rank();
    const int64_t chunk = (n + R - 1) / R;  // padded: ncclAllGather takes equal chunks
    if (send_.numel() != chunk * R) {
      send_ = Tensor::zeros(Shape{chunk * R}, Device::cuda);
      recv_ = Tensor::zeros(Shape{chunk * R}, Device::cuda);
    }
    cudaStream_t s = cuda::stream();
    RADIUS_CUDA_CHECK(cudaMemcpyAsync(send_.data(), data, size_t(n) * sizeof(float), cudaMemcpyDeviceToDevice, s));
    // Reduce-scatter as data movement: chunk r of this rank to rank r, chunk `me` of rank r into recv_[r].
    check_nccl(ncclGroupStart(), "ncclGroupStart");
    for (int r = 0; r < R; ++r) {
      check_nccl(ncclSend(send_.data() + r * chunk, size_t(chunk), ncclFloat, r, nccl_, s), "ncclSend");
      check_nccl(ncclRecv(recv_.data() + r * chunk, size_t(chunk), ncclFloat, r, nccl_, s), "ncclRecv");
    }
    check_nccl(ncclGroupEnd(), "ncclGroupEnd");
    float* mine = send_.data() + me * chunk;  // this rank's summed chunk (its own contribution is in recv_ now)
    cuda::sum_in_rank_order(recv_.data(), R, chunk, chunk, mine);
    check_nccl(ncclAllGather(mine, recv_.data(), size_t(chunk), ncclFloat, nccl_, s), "ncclAllGather");
    RADIUS_CUDA_CHECK(cudaMemcpyAsync(data, recv_.data(), size_t(n) * sizeof(float), cudaMemcpyDeviceToDevice, s));
  }

 private:
  // Rank 0's NCCL id to every rank (through MPI), then the NCCL communicator.
  void connect() {
    ncclUniqueId id;
    if (rank() == 0) check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
    host_->broadcast(&id, int64_t(sizeof id), 0);
    check_nccl(ncclCommInitRank(&nccl_, size(), id, rank()), "ncclCommInitRank");
  }

  std::unique_ptr<Communicator> host_;
  ncclComm_t nccl_ = nullptr;
  Tensor send_, recv_;  // [R * chunk] each, kept between steps
};

}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(std::unique_ptr<Communicator> host) {
  return std::make_unique<NcclCommunicator>(std::move(host));
}

}  // namespace radius
