// The Communicator (net/comm.h) over MPI: the ranks mpirun or srun started.
//
// Built only with -DRADIUS_MPI=ON (find_package(MPI)), into the radius_mpi library
// that the radius program links; the core library stays free of MPI.
//
// allreduce_sum, in rank order whatever MPI's algorithm choice: a reduce-scatter
// followed by an allgather, both written as plain data movement. The buffer is cut
// into R chunks; rank j receives chunk j of every rank's contributions (MPI_Alltoallv:
// laid out in rank order, and in part order within a rank for allreduce_sum_parts), adds
// them with sum_in_rank_order (0 + x_0 + x_1 + ...), and MPI_Allgatherv hands every rank
// every summed chunk. MPI only moves bytes, never adds, so the bits cannot depend on its
// algorithms; with one part per rank each rank sends and receives 2 (R-1)/R of the
// buffer, as a ring all-reduce does (docs/scaling.md). The simpler MPI_Allgather of
// whole gradients would give the same bits but move R times the data.
#pragma once
#include <memory>

#include "net/comm.h"

namespace radius {

// True when this process was started by an MPI launcher (mpirun, mpiexec, srun):
// their environment variables are set. A plain `radius` never initialises MPI.
bool started_by_mpi_launcher();

// MPI_Init (threads: funneled, the main thread alone calls MPI) and the world
// communicator; MPI_Finalize when it is destroyed.
std::unique_ptr<Communicator> make_mpi_communicator(int* argc, char*** argv);

}  // namespace radius
