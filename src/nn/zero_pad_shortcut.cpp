// The option-A shortcut as one autograd node whose forward and backward both allocate in x's memory
// format. Built from slice + constant_pad_nd instead, its backward (slice_backward) allocates an NCHW
// gradient, which in a channels_last network turns the residual sums and batch norms at every stage
// boundary into layout conversions.
#include "layers.h"

#include <ATen/ops/empty.h>
#include <c10/util/Exception.h>
#include <torch/csrc/autograd/custom_function.h>

namespace propnet::detail {
namespace {

// at::zeros ignores a memory format in its options; at::empty honours it.
at::Tensor zeros_in(at::IntArrayRef sizes, const at::TensorOptions& options, at::MemoryFormat format) {
  return at::empty(sizes, options.memory_format(format)).zero_();
}

at::Tensor subsample(const at::Tensor& x, int64_t stride) {
  return stride == 1 ? x : x.slice(2, 0, x.size(2), stride).slice(3, 0, x.size(3), stride);
}

struct ZeroPadShortcut : torch::autograd::Function<ZeroPadShortcut> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, int64_t stride,
                            int64_t out_channels) {
    const at::MemoryFormat format = x.suggest_memory_format();
    const at::Tensor s = subsample(x, stride);
    at::Tensor y = zeros_in({s.size(0), out_channels, s.size(2), s.size(3)}, x.options(), format);
    y.narrow(1, 0, x.size(1)).copy_(s);
    ctx->saved_data["sizes"] = x.sizes().vec();
    ctx->saved_data["stride"] = stride;
    ctx->saved_data["channels_last"] = format == at::MemoryFormat::ChannelsLast;
    return y;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto sizes = ctx->saved_data["sizes"].toIntVector();
    const auto format = ctx->saved_data["channels_last"].toBool() ? at::MemoryFormat::ChannelsLast
                                                                   : at::MemoryFormat::Contiguous;
    at::Tensor grad_x = zeros_in(sizes, grads[0].options(), format);
    subsample(grad_x, ctx->saved_data["stride"].toInt()).copy_(grads[0].narrow(1, 0, sizes[1]));
    return {grad_x, at::Tensor(), at::Tensor()};
  }
};

}  // namespace

at::Tensor zero_pad_shortcut(const at::Tensor& x, int64_t stride, int64_t out_channels) {
  TORCH_CHECK_VALUE(x.dim() == 4 && stride >= 1 && out_channels >= x.size(1),
                    "zero_pad_shortcut: expected a 4-D input, stride >= 1 and out_channels >= its ",
                    x.dim() == 4 ? x.size(1) : 0, " channels (got ", x.sizes(), ", stride ", stride, ", ",
                    out_channels, ")");
  if (stride == 1 && out_channels == x.size(1)) return x;
  return ZeroPadShortcut::apply(x, stride, out_channels);
}

}  // namespace propnet::detail
