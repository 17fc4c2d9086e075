// ProcessGroupNCCL, compiled only when LibTorch has CUDA (the PyPI wheel in CI).
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>

#include "backend.h"

namespace propnet::dist {

bool nccl_available() { return true; }

c10::intrusive_ptr<BackendBase> make_nccl_backend(const c10::intrusive_ptr<c10d::Store>& store, int rank, int world,
                                                  std::chrono::milliseconds timeout, int device_index) {
  // NCCL creates its communicator lazily, on the current device, at the first collective.
  c10::cuda::set_device(static_cast<c10::DeviceIndex>(device_index));
  auto options = c10d::ProcessGroupNCCL::Options::create(/*is_high_priority_stream=*/false);
  options->timeout = timeout;
  return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, world, options);
}

}  // namespace propnet::dist
