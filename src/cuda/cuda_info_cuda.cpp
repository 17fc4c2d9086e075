#include "cuda_info.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAFunctions.h>

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

}  // namespace propnet::detail
