// Device: where a tensor's storage lives. Kept apart from tensor.h so that CUDA
// code (kernels/) can name devices without compiling Eigen under nvcc.
#pragma once
#include <string>

namespace radius {

enum class Device { cpu, cuda };
std::string to_string(Device d);

}  // namespace radius
