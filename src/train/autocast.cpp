#include "autocast.h"

#include <ATen/autocast_mode.h>
#include <ATen/ops/_amp_foreach_non_finite_check_and_unscale.h>
#include <ATen/ops/_amp_update_scale.h>
#include <ATen/ops/full.h>
#include <ATen/ops/zeros.h>

#include "../compat.h"

namespace propnet::train::detail {

AutocastScope::AutocastScope(bool enabled, c10::ScalarType dtype) : enabled_(enabled) {
  if (!enabled_) return;
#if PROPNET_TORCH_AT_LEAST(2, 4)
  previous_ = at::autocast::is_autocast_enabled(at::kCUDA);
  previous_dtype_ = at::autocast::get_autocast_dtype(at::kCUDA);
  at::autocast::set_autocast_enabled(at::kCUDA, true);
  at::autocast::set_autocast_dtype(at::kCUDA, dtype);
#else
  previous_ = at::autocast::is_enabled();
  previous_dtype_ = at::autocast::get_autocast_gpu_dtype();
  at::autocast::set_enabled(true);
  at::autocast::set_autocast_gpu_dtype(dtype);
#endif
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!enabled_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
#if PROPNET_TORCH_AT_LEAST(2, 4)
  at::autocast::set_autocast_enabled(at::kCUDA, previous_);
  at::autocast::set_autocast_dtype(at::kCUDA, previous_dtype_);
#else
  at::autocast::set_enabled(previous_);
  at::autocast::set_autocast_gpu_dtype(previous_dtype_);
#endif
}

AutocastCacheOff::AutocastCacheOff() : previous_(at::autocast::is_autocast_cache_enabled()) {
  at::autocast::set_autocast_cache_enabled(false);
}

AutocastCacheOff::~AutocastCacheOff() { at::autocast::set_autocast_cache_enabled(previous_); }

LossScaler::LossScaler(const c10::Device& device, double initial_scale)
    : scale_(at::full({1}, initial_scale, at::TensorOptions().device(device).dtype(at::kFloat))),
      growth_tracker_(at::zeros({1}, at::TensorOptions().device(device).dtype(at::kInt))),
      found_inf_(at::zeros({1}, at::TensorOptions().device(device).dtype(at::kFloat))) {}

at::Tensor LossScaler::scale(const at::Tensor& loss) const { return loss * scale_.to(loss.scalar_type()); }

bool LossScaler::unscale(const std::vector<at::Tensor>& grads) {
  found_inf_.zero_();
  std::vector<at::Tensor> defined;
  for (const auto& g : grads) {
    if (g.defined()) defined.push_back(g);
  }
  at::_amp_foreach_non_finite_check_and_unscale_(defined, found_inf_, scale_.reciprocal());
  return found_inf_.item<float>() == 0.0f;  // one host sync per step; eager fp16 path only
}

void LossScaler::update() {
  // torch.amp.GradScaler defaults: growth 2.0 every 2000 clean steps, backoff 0.5.
  at::_amp_update_scale_(scale_, growth_tracker_, found_inf_, 2.0, 0.5, 2000);
}

double LossScaler::current_scale() const { return scale_.item<double>(); }

}  // namespace propnet::train::detail
