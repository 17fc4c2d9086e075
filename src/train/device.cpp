#include <propnet/train/device.h>

#include <ATen/ops/empty_like.h>
#include <c10/util/Exception.h>
#include <torch/cuda.h>

#include <propnet/nn/batch_norm_relu.h>

#include "../cuda/cuda_info.h"

namespace propnet::train {

c10::Device resolve_device(const std::optional<c10::Device>& request) {
  if (!request) return torch::cuda::is_available() ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  const std::string text = request->str();
  if (request->is_cpu()) return c10::Device(c10::kCPU);
  TORCH_CHECK_VALUE(request->is_cuda(), "device: expected auto, cpu, cuda or cuda:N (got \"", text, "\")");
  TORCH_CHECK_VALUE(detail::cuda_compiled(), "device: \"", text,
                    "\" requested, but this propnet was built against a CPU-only LibTorch; use --device cpu, "
                    "or build against a CUDA LibTorch (scripts/build.sh --torch pip)");
  TORCH_CHECK_VALUE(torch::cuda::is_available(), "device: \"", text,
                    "\" requested, but no CUDA device is visible (driver, CUDA_VISIBLE_DEVICES?); use --device cpu");
  const int64_t index = request->has_index() ? request->index() : 0;
  const int64_t count = static_cast<int64_t>(torch::cuda::device_count());
  TORCH_CHECK_VALUE(index < count, "device: \"", text, "\" requested, but only ", count, " CUDA device(s) are visible");
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
}

std::optional<c10::Device> parse_device(const std::string& text) {
  if (text == "auto") return std::nullopt;
  if (text == "cpu") return c10::Device(c10::kCPU);
  if (text == "cuda") return c10::Device(c10::kCUDA);
  const std::string digits = text.rfind("cuda:", 0) == 0 ? text.substr(5) : "";
  TORCH_CHECK_VALUE(!digits.empty() && digits.size() <= 3 && digits.find_first_not_of("0123456789") == std::string::npos,
                    "device: expected auto, cpu, cuda or cuda:N (got \"", text, "\")");
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(std::stoi(digits)));
}

c10::Device resolve_device(const std::string& text) { return resolve_device(parse_device(text)); }

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
