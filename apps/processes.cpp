#include "apps/processes.h"

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <stdexcept>

#ifdef RADIUS_WITH_MPI
#include "mpi/mpi_communicator.h"
#endif
#ifdef RADIUS_WITH_NCCL
#include "mpi/nccl_communicator.h"
#endif

namespace radius::app {

#ifndef RADIUS_WITH_MPI
namespace {
// The rank count a launcher announces (Open MPI's mpirun; PMI: srun --mpi=pmi2, MPICH), 0 when none.
int launched_ranks() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char* s = std::getenv(v)) return std::atoi(s);
  return 0;
}
}  // namespace
#endif

std::unique_ptr<Communicator> join_job(int* argc, char*** argv) {
#ifdef RADIUS_WITH_MPI
  if (!started_by_mpi_launcher()) return nullptr;
  std::unique_ptr<Communicator> comm = make_mpi_communicator(argc, argv);
#ifdef RADIUS_WITH_NCCL
  comm = make_nccl_communicator(std::move(comm));  // a CUDA model's gradients are summed on the GPUs
#endif
  set_world(comm.get());
  if (comm->rank() != 0 && std::freopen("/dev/null", "w", stdout) == nullptr)
    std::fprintf(stderr, "radius: warning: rank %d could not silence its output\n", comm->rank());
  return comm;
#else
  (void)argc, (void)argv;
  if (const int ranks = launched_ranks(); ranks > 1)
    throw std::runtime_error("started as " + std::to_string(ranks) +
                             " MPI ranks, but this radius was built without MPI (cmake -DRADIUS_MPI=ON): each "
                             "process would train alone and write the same folder");
  return nullptr;
#endif
}

namespace {
char job_end_message[1024];

extern "C" void say_job_ended(int) {
  const ssize_t ignored = ::write(2, job_end_message, std::strlen(job_end_message));
  (void)ignored;
  ::_exit(143);
}
}  // namespace

void on_job_end_say(const std::string& resume_hint) {
  const Communicator& c = world();
  if (c.size() == 1 || c.rank() != 0) return;
  std::snprintf(job_end_message, sizeof job_end_message,
                "\nradius: the MPI job was ended (another rank failed: see its error above, or the job was stopped); "
                "the last finished epoch is saved: resume with\n  mpirun -n %d %s\n",
                c.size(), resume_hint.c_str());
  std::signal(SIGTERM, say_job_ended);
}

std::string rank_note() {
  const Communicator& c = world();
  if (c.size() == 1) return "";
  return " (rank " + std::to_string(c.rank()) + " of " + std::to_string(c.size()) + ")";
}

}  // namespace radius::app
