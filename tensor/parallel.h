// Thread count for the CPU backend: OpenMP loops and Eigen's GEMMs share it.
#pragma once

namespace radius {

void set_num_threads(int n);  // n <= 0: leave the OpenMP default (all cores)
int num_threads();

}  // namespace radius
