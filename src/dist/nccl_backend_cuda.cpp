// ProcessGroupNCCL, compiled only when LibTorch has CUDA (the PyPI wheel in CI).
#include <cstdlib>

#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>

#include "backend.h"

namespace propnet::dist {

bool nccl_available() { return true; }

c10::intrusive_ptr<BackendBase> make_nccl_backend(const c10::intrusive_ptr<c10d::Store>& store, int rank, int world,
                                                  std::chrono::milliseconds timeout, int device_index) {
  // A timed-out collective is found by NCCL's watchdog thread, which by default tears the process
  // down. "Clean up only" aborts the communicators and lets the error reach the next wait(), where
  // Group reports it as it does Gloo's ("another rank exited or stopped answering"). A user's own
  // setting wins.
  if (!std::getenv("TORCH_NCCL_ASYNC_ERROR_HANDLING") && !std::getenv("NCCL_ASYNC_ERROR_HANDLING")) {
    setenv("TORCH_NCCL_ASYNC_ERROR_HANDLING", "2", /*overwrite=*/0);  // CleanUpOnly; read by the constructor
  }
  // NCCL creates its communicator lazily, on the current device, at the first collective.
  c10::cuda::set_device(static_cast<c10::DeviceIndex>(device_index));
  auto options = c10d::ProcessGroupNCCL::Options::create(/*is_high_priority_stream=*/false);
  options->timeout = timeout;
  return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, world, options);
}

void shutdown_nccl_backend(BackendBase& backend) noexcept {
#if PROPNET_TORCH_AT_LEAST(2, 4)
  try {
    // 2.4+ warns at exit (and may hang in ncclCommAbort) when a group is destroyed without it.
    backend.shutdown();
  } catch (...) {
    // Exiting anyway; an error here must not hide the one that ended the run.
  }
#else
  (void)backend;
#endif
}

}  // namespace propnet::dist
