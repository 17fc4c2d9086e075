#pragma once
// Device queries with one definition per build: cuda_info_cuda.cpp when LibTorch has CUDA,
// cuda_info_none.cpp otherwise, so CPU-only builds never include CUDA headers.
#include <cstdint>
#include <string>
#include <vector>

namespace propnet::detail {

bool cuda_compiled();
/// One "name (sm_XY, N GiB)" per visible device; empty without a driver or device.
std::vector<std::string> cuda_device_names();
/// Makes device `index` the current CUDA device. No-op without CUDA.
void cuda_set_device(int index);
/// Waits for every queued kernel on device `index` (timing). No-op without CUDA.
void cuda_synchronize(int index);
/// Resets / reads the caching allocator's peak of allocated bytes on device `index` (0 without CUDA).
void cuda_reset_peak_memory(int index);
int64_t cuda_peak_memory_bytes(int index);

}  // namespace propnet::detail
