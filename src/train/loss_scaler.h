#pragma once
// Dynamic loss scaling for fp16 training (C++ has no GradScaler, pytorch#44710).
#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

namespace propnet::train::detail {

/// torch.amp.GradScaler's defaults.
struct LossScalerOptions {
  double initial_scale = 65536.0;
  double growth_factor = 2.0;     ///< After `growth_interval` steps in a row without inf/NaN gradients.
  double backoff_factor = 0.5;    ///< After a step with an inf/NaN gradient (which is skipped).
  int64_t growth_interval = 2000;
};

/// Scales the loss before backward, unscales the gradients after it, tells whether the step must be
/// skipped (an inf/NaN gradient), and grows or backs off the scale as torch.amp.GradScaler does.
///
/// The scale lives on the host and is updated there, from the one inf/NaN flag `unscale` reads (one
/// device sync per step, which is why fp16 cannot run inside a CUDA graph). Every tensor op is a
/// plain ATen op, so the same code runs, and is tested, on the CPU.
class LossScaler {
 public:
  explicit LossScaler(LossScalerOptions options = {});

  /// `loss` times the current scale.
  at::Tensor scale(const at::Tensor& loss) const;
  /// Divides `grads` (undefined ones are skipped) by the scale in place; returns false when any
  /// value is inf or NaN, i.e. the optimizer step must be skipped.
  bool unscale(const std::vector<at::Tensor>& grads);
  /// Backs off after a skipped step, grows after `growth_interval` clean ones. Call after `unscale`.
  void update();

  double current_scale() const noexcept { return scale_; }
  /// Clean steps since the last growth or back-off.
  int64_t clean_steps() const noexcept { return clean_steps_; }

 private:
  LossScalerOptions options_;
  double scale_;
  int64_t clean_steps_ = 0;
  bool found_inf_ = false;
};

}  // namespace propnet::train::detail
