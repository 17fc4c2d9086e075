#pragma once
// The one way the input pipeline moves host data to the training device, so that the uploads it
// makes can be counted (tests assert that a training step makes none).
#include <cstdint>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

namespace propnet::data::detail {

/// `host` (a CPU tensor) on `device`. On CUDA the copy goes through pinned memory with
/// non_blocking, so the host does not wait for the stream (a pageable copy synchronizes it); the
/// caching host allocator keeps the pinned block alive until the copy has run.
at::Tensor upload(const at::Tensor& host, const c10::Device& device);

/// How many times `upload` has been called in this process, whatever the device (the CPU
/// included, where it copies nothing): the seam through which tests count uploads per step.
int64_t upload_count();

}  // namespace propnet::data::detail
