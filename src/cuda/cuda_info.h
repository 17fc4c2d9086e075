#pragma once
// Device queries with one definition per build: cuda_info_cuda.cpp when LibTorch has CUDA,
// cuda_info_none.cpp otherwise, so CPU-only builds never include CUDA headers.
#include <string>
#include <vector>

namespace propnet::detail {

bool cuda_compiled();
/// One "name (sm_XY, N GiB)" per visible device; empty without a driver or device.
std::vector<std::string> cuda_device_names();

}  // namespace propnet::detail
