#include "cuda_info.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>

namespace propnet::detail {

bool cuda_compiled() { return true; }

std::vector<std::string> cuda_device_names() {
  std::vector<std::string> names;
  try {
    const auto count = c10::cuda::device_count();  // 0, not an error, without a driver
    for (c10::DeviceIndex i = 0; i < count; ++i) {
      const cudaDeviceProp* prop = at::cuda::getDeviceProperties(i);
      names.push_back(std::string(prop->name) + " (sm_" + std::to_string(prop->major) + std::to_string(prop->minor) +
                      ", " + std::to_string(prop->totalGlobalMem >> 30) + " GiB)");
    }
  } catch (const std::exception&) {
    names.clear();  // a broken driver is "no device" for reporting purposes
  }
  return names;
}

void cuda_set_device(int index) { c10::cuda::set_device(static_cast<c10::DeviceIndex>(index)); }

void cuda_synchronize(int index) {
  c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(index));
  c10::cuda::device_synchronize();
}

void cuda_reset_peak_memory(int index) {
  c10::cuda::CUDACachingAllocator::resetPeakStats(static_cast<c10::DeviceIndex>(index));
}

int64_t cuda_peak_memory_bytes(int index) {
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(index));
  return stats.allocated_bytes[0].peak;  // [0] = StatType::AGGREGATE (its namespace moved in 2.x)
}

}  // namespace propnet::detail
