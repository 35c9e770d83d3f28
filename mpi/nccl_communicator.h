// A Communicator whose sums of device buffers run through NCCL (CUDA builds with MPI
// and NCCL: cmake finds nccl.h and libnccl in the CUDA toolkit, NCCL_ROOT, or the
// `nvidia-nccl` wheel's folder given as NCCL_ROOT). Everything else (host sums,
// broadcasts, gathers, splits) goes to the MPI communicator it wraps.
//
// Same bits as the host path: NCCL's own all-reduce adds in an order of its choosing
// (rings, trees), so it is not used. Instead, as mpi/mpi_communicator.h does with MPI:
// a reduce-scatter written as data movement (grouped ncclSend/ncclRecv: chunk j of every
// rank to rank j), the rank-order sum of the chunk on the device (kernels/rank_sum.h,
// the CPU's formula), then ncclAllGather. NCCL moves bytes, never adds.
//
// The NCCL communicator is made on the first device sum (a CPU run never touches the
// GPU); each rank takes GPU (local rank mod device count) when it is made.
#pragma once
#include <memory>

#include "net/comm.h"

namespace radius {

std::unique_ptr<Communicator> make_nccl_communicator(std::unique_ptr<Communicator> host);

}  // namespace radius
