#pragma once
// Mixed precision on CUDA: the autocast scope (fp16 loss scaling: loss_scaler.h). Autocast's C++ API
// changed in LibTorch 2.4 (device-agnostic names); the difference stays in autocast.cpp.
#include <ATen/core/Tensor.h>

namespace propnet::train::detail {

/// Enables CUDA autocast to `dtype` for its lifetime; a no-op when `enabled` is false.
class AutocastScope {
 public:
  AutocastScope(bool enabled, c10::ScalarType dtype);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool enabled_;
  bool previous_ = false;
  c10::ScalarType previous_dtype_ = c10::ScalarType::Half;
};

/// Turns autocast's weight-cast cache off for its lifetime: a CUDA graph must record the casts
/// themselves, not reuse tensors cast before the capture (torch.cuda.graphs requires the same).
class AutocastCacheOff {
 public:
  AutocastCacheOff();
  ~AutocastCacheOff();
  AutocastCacheOff(const AutocastCacheOff&) = delete;
  AutocastCacheOff& operator=(const AutocastCacheOff&) = delete;

 private:
  bool previous_;
};

}  // namespace propnet::train::detail
