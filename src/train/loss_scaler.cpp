#include "loss_scaler.h"

#include <ATen/core/grad_mode.h>
#include <ATen/ops/_foreach_mul.h>
#include <ATen/ops/_foreach_norm.h>
#include <ATen/ops/stack.h>
#include <c10/util/Exception.h>

namespace propnet::train::detail {

LossScaler::LossScaler(LossScalerOptions options) : options_(options), scale_(options.initial_scale) {
  TORCH_CHECK_VALUE(options_.initial_scale > 0 && options_.growth_factor > 1 && options_.backoff_factor > 0 &&
                        options_.backoff_factor < 1 && options_.growth_interval >= 1,
                    "LossScaler: expected a scale > 0, growth > 1, backoff in (0, 1) and an interval >= 1");
}

at::Tensor LossScaler::scale(const at::Tensor& loss) const { return loss.mul(scale_); }

bool LossScaler::unscale(const std::vector<at::Tensor>& grads) {
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> defined;
  for (const auto& g : grads) {
    if (g.defined()) defined.push_back(g);
  }
  found_inf_ = false;
  if (defined.empty()) return true;
  at::_foreach_mul_(defined, 1.0 / scale_);
  // One fused norm per gradient: inf or NaN anywhere makes its norm inf or NaN.
  found_inf_ = !at::stack(at::_foreach_norm(defined)).isfinite().all().item<bool>();
  return !found_inf_;
}

void LossScaler::update() {
  if (found_inf_) {
    scale_ *= options_.backoff_factor;
    clean_steps_ = 0;
  } else if (++clean_steps_ == options_.growth_interval) {
    scale_ *= options_.growth_factor;
    clean_steps_ = 0;
  }
}

}  // namespace propnet::train::detail
