// The processes one `radius` command runs in: one, or the ranks of an MPI job
// (mpirun -n R radius train ..., srun radius train ...; README "Running on a cluster").
//
// main() calls join_job() first. Started by an MPI launcher, a radius built with
// -DRADIUS_MPI=ON joins the job and sets net/comm.h's world() to it; rank 0 writes
// every output and prints the log, the other ranks print nothing but errors (their
// stdout goes to /dev/null). A radius built without MPI refuses to run as several
// ranks (each would train alone and all would write the same folder).
#pragma once
#include <memory>
#include <string>

#include "net/comm.h"

namespace radius::app {

// Joins the MPI job when an MPI launcher started this process; nullptr otherwise.
// Keep the result until the end of main (destroying it finalizes MPI).
std::unique_ptr<Communicator> join_job(int* argc, char*** argv);

// Rank 0 (or the only process): the one that writes run folders and logs.
inline bool writes_outputs() { return world().rank() == 0; }

// In a job: when the job is ended under this rank (mpirun's SIGTERM after another rank
// failed, or a stopped job), rank 0 says that the last finished epoch is saved and how to
// resume (`resume_hint`), then exits with 143. Nothing in one process.
void on_job_end_say(const std::string& resume_hint);

// "" in one process, " (rank 1 of 4)" in a job: for error messages.
std::string rank_note();

}  // namespace radius::app
