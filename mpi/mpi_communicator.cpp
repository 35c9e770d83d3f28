#include "mpi/mpi_communicator.h"

#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace radius {

namespace {

void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw std::runtime_error(std::string(what) + " failed: " + std::string(text, size_t(len)));
}

int checked_count(int64_t n) {
  if (n < 0 || n > INT_MAX) throw std::invalid_argument("MPI message of " + std::to_string(n) + " elements (over INT_MAX)");
  return int(n);
}

template <class T>
MPI_Datatype mpi_type();
template <>
MPI_Datatype mpi_type<float>() { return MPI_FLOAT; }
template <>
MPI_Datatype mpi_type<double>() { return MPI_DOUBLE; }

class MpiCommunicator final : public Communicator {
 public:
  // The world: initialises MPI (finalised by this object's destructor).
  MpiCommunicator(int* argc, char*** argv) : owns_mpi_(true) {
    int provided = 0;
    check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    adopt(MPI_COMM_WORLD);
  }
  // A communicator split from another (freed by the destructor).
  explicit MpiCommunicator(MPI_Comm comm) : owns_mpi_(false) { adopt(comm); }
  ~MpiCommunicator() override {
    if (owns_mpi_) MPI_Finalize();
    else MPI_Comm_free(&comm_);
  }
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  std::unique_ptr<Communicator> split(int color) override {
    MPI_Comm part;
    check(MPI_Comm_split(comm_, color, rank_, &part), "MPI_Comm_split");
    return std::make_unique<MpiCommunicator>(part);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string describe() const override { return "MPI, " + std::to_string(size_) + " ranks"; }

  void allreduce_sum(float* data, int64_t n) override { reduce(data, 1, n, data); }
  void allreduce_sum(double* data, int64_t n) override { reduce(data, 1, n, data); }
  void allreduce_sum_parts(const float* parts, int count, int64_t n, float* out) override {
    reduce(parts, count, n, out);
  }
  void allreduce_sum_parts(const double* parts, int count, int64_t n, double* out) override {
    reduce(parts, count, n, out);
  }

  void broadcast(void* data, int64_t bytes, int root) override {
    check(MPI_Bcast(data, checked_count(bytes), MPI_BYTE, root, comm_), "MPI_Bcast");
  }

  std::vector<std::string> allgather(const std::string& data) override {
    int mine = checked_count(int64_t(data.size()));
    const size_t R = size_t(size_);
    std::vector<int> sizes(R), offsets(R);
    check(MPI_Allgather(&mine, 1, MPI_INT, sizes.data(), 1, MPI_INT, comm_), "MPI_Allgather");
    int64_t total = 0;
    for (size_t r = 0; r < R; ++r) {
      offsets[r] = checked_count(total);
      total += sizes[r];
    }
    std::string all(size_t(total), '\0');
    check(MPI_Allgatherv(data.data(), mine, MPI_CHAR, all.data(), sizes.data(), offsets.data(), MPI_CHAR,
                         comm_),
          "MPI_Allgatherv");
    std::vector<std::string> out;
    for (int r = 0; r < size_; ++r) out.push_back(all.substr(size_t(offsets[size_t(r)]), size_t(sizes[size_t(r)])));
    return out;
  }

  void barrier() override { check(MPI_Barrier(comm_), "MPI_Barrier"); }
  void abort(int exit_code) override {
    MPI_Abort(MPI_COMM_WORLD, exit_code);
    std::_Exit(exit_code);  // MPI_Abort does not return; the compiler does not know it
  }

 private:
  // Chunk r of n elements: [n r / R, n (r + 1) / R).
  int64_t chunk_begin(int64_t n, int r) const { return n * r / size_; }

  // Every rank's parts ([count][n], count may differ by rank) summed in rank order, then
  // part order, into out (which may be parts: the Alltoallv has read them before the sum writes).
  template <class T>
  void reduce(const T* parts, int count, int64_t n, T* out) {
    const int R = size_;
    const size_t ranks = size_t(R);
    std::vector<int> counts(ranks);
    check(MPI_Allgather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, comm_), "MPI_Allgather");
    int64_t total = 0;  // parts over all ranks
    for (int r = 0; r < R; ++r) total += counts[size_t(r)];
    const int64_t mine = chunk_begin(n, rank_ + 1) - chunk_begin(n, rank_);
    // Reduce-scatter as data movement: chunk j of each of this rank's parts to rank j
    // (packed by destination), and from every rank its parts of this rank's chunk, in
    // rank order then part order: the order of the micro-batches.
    std::vector<int> send_counts(ranks), send_offsets(ranks), recv_counts(ranks), recv_offsets(ranks);
    // One part is laid out by destination already (chunk j at its offset): sent as it is.
    if (count > 1) packed_.resize(size_t(int64_t(count) * n) * sizeof(T));
    T* packed = reinterpret_cast<T*>(packed_.data());
    const T* send = count > 1 ? packed : parts;
    int64_t placed = 0, received = 0;
    for (int j = 0; j < R; ++j) {
      const int64_t begin = chunk_begin(n, j), len = chunk_begin(n, j + 1) - begin;
      send_offsets[size_t(j)] = checked_count(placed);
      send_counts[size_t(j)] = checked_count(int64_t(count) * len);
      if (count > 1)
        for (int c = 0; c < count; ++c) std::copy(parts + c * n + begin, parts + c * n + begin + len, packed + placed + c * len);
      placed += int64_t(count) * len;
      recv_offsets[size_t(j)] = checked_count(received);
      recv_counts[size_t(j)] = checked_count(int64_t(counts[size_t(j)]) * mine);
      received += int64_t(counts[size_t(j)]) * mine;
    }
    contributions_.resize(size_t(received) * sizeof(T));
    T* from_ranks = reinterpret_cast<T*>(contributions_.data());
    check(MPI_Alltoallv(send, send_counts.data(), send_offsets.data(), mpi_type<T>(), from_ranks, recv_counts.data(),
                        recv_offsets.data(), mpi_type<T>(), comm_),
          "MPI_Alltoallv");
    // This rank's chunk: the `total` parts summed in order (kernels/rank_sum.h), then every chunk to every rank.
    sum_in_rank_order(from_ranks, int(total), mine, out + chunk_begin(n, rank_));
    std::vector<int> chunk_counts(ranks), chunk_offsets(ranks);
    for (int j = 0; j < R; ++j) {
      chunk_offsets[size_t(j)] = checked_count(chunk_begin(n, j));
      chunk_counts[size_t(j)] = checked_count(chunk_begin(n, j + 1) - chunk_begin(n, j));
    }
    check(MPI_Allgatherv(MPI_IN_PLACE, 0, mpi_type<T>(), out, chunk_counts.data(), chunk_offsets.data(), mpi_type<T>(),
                         comm_),
          "MPI_Allgatherv");
  }

  void adopt(MPI_Comm comm) {
    comm_ = comm;
    // Errors come back as codes (thrown with MPI's text) instead of aborting silently.
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
  }

  bool owns_mpi_;
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  std::vector<char> packed_, contributions_;  // send and receive buffers, kept between steps
};

}  // namespace

bool started_by_mpi_launcher() {
  // Open MPI's mpirun; PMI / PMIx: srun (--mpi=pmi2 or pmix), MPICH's and Intel's mpiexec.
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"})
    if (std::getenv(v) != nullptr) return true;
  return false;
}

std::unique_ptr<Communicator> make_mpi_communicator(int* argc, char*** argv) {
  return std::make_unique<MpiCommunicator>(argc, argv);
}

}  // namespace radius
