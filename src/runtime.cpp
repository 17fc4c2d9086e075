#include <propnet/runtime.h>

#include <thread>

#include <ATen/Parallel.h>
#include <torch/version.h>

#include <propnet/version.h>

#include "cuda/cuda_info.h"

namespace propnet {

RuntimeInfo runtime_info() {
  RuntimeInfo info;
  info.propnet_version = PROPNET_VERSION;
  info.torch_version = std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
                       std::to_string(TORCH_VERSION_PATCH);
  info.cuda_compiled = detail::cuda_compiled();
  info.cuda_devices = detail::cuda_device_names();
  info.threads = at::get_num_threads();
  return info;
}

int64_t configure_threads(int64_t requested) {
  const int64_t cores = std::max<int64_t>(1, static_cast<int64_t>(std::thread::hardware_concurrency()));
  at::set_num_threads(static_cast<int>(requested > 0 ? requested : cores));
  return at::get_num_threads();
}

}  // namespace propnet
