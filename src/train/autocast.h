#pragma once
// Mixed precision on CUDA: autocast scope and fp16 loss scaling. Autocast's C++ API changed in
// LibTorch 2.4 (device-agnostic names); the difference stays in autocast.cpp.
#include <vector>

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

/// Dynamic loss scaling for fp16 (C++ has no GradScaler): scale the loss, unscale the gradients,
/// skip the step when any gradient is inf/NaN, and grow or back off the scale like torch.amp.
class LossScaler {
 public:
  explicit LossScaler(const c10::Device& device, double initial_scale = 65536.0);
  at::Tensor scale(const at::Tensor& loss) const;
  /// Unscales `grads` in place; returns false (skip the optimizer step) if any was not finite.
  bool unscale(const std::vector<at::Tensor>& grads);
  /// Updates the scale after a step (call after `unscale`).
  void update();
  double current_scale() const;

 private:
  at::Tensor scale_, growth_tracker_, found_inf_;
};

}  // namespace propnet::train::detail
