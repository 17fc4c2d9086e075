#include <propnet/train/device.h>

#include <ATen/ops/empty_like.h>
#include <c10/util/Exception.h>
#include <torch/cuda.h>

#include <propnet/nn/batch_norm_relu.h>

#include "../cuda/cuda_info.h"

namespace propnet::train {

c10::Device resolve_device(const std::string& text) {
  if (text == "auto") return torch::cuda::is_available() ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  if (text == "cpu") return c10::Device(c10::kCPU);
  const bool cuda = text == "cuda" || text.rfind("cuda:", 0) == 0;
  TORCH_CHECK_VALUE(cuda, "device: expected auto, cpu, cuda or cuda:N (got \"", text, "\")");
  TORCH_CHECK_VALUE(detail::cuda_compiled(), "device: \"", text,
                    "\" requested, but this propnet was built against a CPU-only LibTorch; use --device cpu, "
                    "or build against a CUDA LibTorch (scripts/build.sh --torch pip)");
  TORCH_CHECK_VALUE(torch::cuda::is_available(), "device: \"", text,
                    "\" requested, but no CUDA device is visible (driver, CUDA_VISIBLE_DEVICES?); use --device cpu");
  int64_t index = 0;
  if (text != "cuda") {
    const std::string digits = text.substr(5);
    TORCH_CHECK_VALUE(!digits.empty() && digits.find_first_not_of("0123456789") == std::string::npos,
                      "device: expected cuda:N with a device number (got \"", text, "\")");
    index = std::stoll(digits);
  }
  const int64_t count = static_cast<int64_t>(torch::cuda::device_count());
  TORCH_CHECK_VALUE(index < count, "device: \"", text, "\" requested, but only ", count, " CUDA device(s) are visible");
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
}

bool resolve_channels_last(const std::optional<bool>& request, const c10::Device& device) {
  return request.value_or(device.is_cpu() && fused_batch_norm_relu_available());
}

at::Tensor to_channels_last(const at::Tensor& t) {
  constexpr auto kChannelsLast = at::MemoryFormat::ChannelsLast;
  TORCH_CHECK_VALUE(t.dim() == 4, "to_channels_last: expected a 4-D tensor (got ", t.sizes(), ")");
  if (t.is_contiguous(kChannelsLast) && t.suggest_memory_format() == kChannelsLast) return t;
  return at::empty_like(t, t.options(), kChannelsLast).copy_(t);
}

}  // namespace propnet::train
