#include "dist_setup.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <thread>

#include <ATen/ops/full.h>
#include <c10/util/Exception.h>
#include <torch/cuda.h>

namespace propnet::cli {

c10::Device rank_device(const c10::Device& device, const std::optional<c10::Device>& requested,
                        const dist::LaunchEnv& launch) {
  const bool any_gpu = !requested || (requested->is_cuda() && !requested->has_index());
  if (!launch.distributed() || !device.is_cuda() || !any_gpu) return device;
  const int64_t count = std::max<int64_t>(1, static_cast<int64_t>(torch::cuda::device_count()));
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(launch.local_rank % count));
}

int64_t rank_threads(int64_t requested, const c10::Device& device, const dist::LaunchEnv& launch) {
  if (!launch.distributed() || !device.is_cpu() || requested != 0) return requested;
  const int64_t cores = std::max<int64_t>(1, static_cast<int64_t>(std::thread::hardware_concurrency()));
  return std::max<int64_t>(1, cores / launch.local_world_size);
}

std::shared_ptr<dist::Group> make_group(const dist::LaunchEnv& launch, const c10::Device& device, double timeout_s) {
  if (!launch.distributed()) return nullptr;
  dist::GroupOptions options;
  options.timeout = std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  return dist::Group::create(launch, device, options);
}

void on_rank0_agreed(dist::Group* group, const c10::Device& device, const std::function<void()>& setup) {
  if (group == nullptr) return setup();
  std::exception_ptr error;
  if (group->rank() == 0) {
    try {
      setup();
    } catch (...) {
      error = std::current_exception();
    }
  }
  at::Tensor failed = at::full({1}, error ? 1.0 : 0.0, at::TensorOptions().device(device));
  group->allreduce_sum(failed);
  if (error) std::rethrow_exception(error);
  TORCH_CHECK(failed.item<double>() == 0, "rank 0 could not prepare the run folder (see its error); rank ",
              group->rank(), " stops too");
}

}  // namespace propnet::cli
