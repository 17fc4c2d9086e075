#pragma once
// Mixed precision: which autocast an `Amp` setting means on a device, and a scope that turns it on.
// The trainer's steps run in it; a StepHook's own passes use it with StepContext::amp to match them.
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <propnet/config.h>

namespace propnet::train {

/// True when `amp` autocasts on `device`: bf16 on CUDA and on the CPU, fp16 on CUDA only.
bool uses_autocast(Amp amp, const c10::Device& device);

/// The autocast dtype of `amp`: bfloat16 for kBf16, float16 for kFp16.
c10::ScalarType amp_dtype(Amp amp);

/// Autocasts on `device` to `amp`'s dtype for its lifetime, as PyTorch's torch.autocast does:
/// convolutions and linear layers in the low precision, weights and optimizer state stay fp32, and
/// BatchNorm keeps fp32 statistics. A no-op when !uses_autocast(amp, device). Not copyable.
class AutocastScope {
 public:
  AutocastScope(const c10::Device& device, Amp amp);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool enabled_;
  bool cpu_;
  bool previous_ = false;
  c10::ScalarType previous_dtype_ = c10::ScalarType::Half;
};

}  // namespace propnet::train
