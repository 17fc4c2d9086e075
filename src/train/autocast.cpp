#include "autocast.h"

#include <ATen/autocast_mode.h>

#include "../compat.h"

namespace propnet::train {
namespace {

// Autocast's switches for the CPU or CUDA. LibTorch 2.4 made them device-agnostic; 1.13 has one
// pair of functions per device (the "gpu" ones are CUDA's).
bool autocast_enabled(bool cpu) {
#if PROPNET_TORCH_AT_LEAST(2, 4)
  return at::autocast::is_autocast_enabled(cpu ? at::kCPU : at::kCUDA);
#else
  return cpu ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled();
#endif
}

c10::ScalarType autocast_dtype(bool cpu) {
#if PROPNET_TORCH_AT_LEAST(2, 4)
  return at::autocast::get_autocast_dtype(cpu ? at::kCPU : at::kCUDA);
#else
  return cpu ? at::autocast::get_autocast_cpu_dtype() : at::autocast::get_autocast_gpu_dtype();
#endif
}

void set_autocast(bool cpu, bool enabled, c10::ScalarType dtype) {
#if PROPNET_TORCH_AT_LEAST(2, 4)
  at::autocast::set_autocast_enabled(cpu ? at::kCPU : at::kCUDA, enabled);
  at::autocast::set_autocast_dtype(cpu ? at::kCPU : at::kCUDA, dtype);
#else
  if (cpu) {
    at::autocast::set_cpu_enabled(enabled);
    at::autocast::set_autocast_cpu_dtype(dtype);
  } else {
    at::autocast::set_enabled(enabled);
    at::autocast::set_autocast_gpu_dtype(dtype);
  }
#endif
}

}  // namespace

bool uses_autocast(Amp amp, const c10::Device& device) {
  return (device.is_cuda() && amp != Amp::kOff) || (device.is_cpu() && amp == Amp::kBf16);
}

c10::ScalarType amp_dtype(Amp amp) { return amp == Amp::kFp16 ? at::kHalf : at::kBFloat16; }

AutocastScope::AutocastScope(const c10::Device& device, Amp amp)
    : enabled_(uses_autocast(amp, device)), cpu_(device.is_cpu()) {
  if (!enabled_) return;
  previous_ = autocast_enabled(cpu_);
  previous_dtype_ = autocast_dtype(cpu_);
  set_autocast(cpu_, true, amp_dtype(amp));
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!enabled_) return;
  // The weight-cast cache lives while autocast is nested; leaving the outermost scope frees it.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  set_autocast(cpu_, previous_, previous_dtype_);
}

namespace detail {

AutocastCacheOff::AutocastCacheOff() : previous_(at::autocast::is_autocast_cache_enabled()) {
  at::autocast::set_autocast_cache_enabled(false);
}

AutocastCacheOff::~AutocastCacheOff() { at::autocast::set_autocast_cache_enabled(previous_); }

}  // namespace detail
}  // namespace propnet::train
