#pragma once
// The ops propnet's modules apply, so that a CountingScope (propnet/nn/op_counter.h) measures them.
#include <ATen/core/Tensor.h>

namespace torch::nn {
class BatchNorm2dImpl;
class Conv2dImpl;
class LinearImpl;
}  // namespace torch::nn

namespace propnet {

namespace detail {
/// ReLU that the active `CountingScope` (if any) records. Every propnet module applies ReLUs this way.
at::Tensor relu(const at::Tensor& x);
/// `relu ? relu(bn(x)) : bn(x)` through propnet::batch_norm_relu (fused on CPU in training); records
/// the ReLU like `relu`. Every propnet module applies a BN followed by a ReLU this way.
at::Tensor bn_relu(torch::nn::BatchNorm2dImpl& bn, const at::Tensor& x, bool relu);
/// Runs `conv` on `x` and records one conv and its MACs.
at::Tensor conv(torch::nn::Conv2dImpl& conv, const at::Tensor& x);
/// Runs `linear` on `x` and records its MACs.
at::Tensor linear(torch::nn::LinearImpl& linear, const at::Tensor& x);
}  // namespace detail

}  // namespace propnet
