#pragma once
#include <ATen/core/Tensor.h>

namespace torch::nn {
class BatchNorm2dImpl;
}  // namespace torch::nn

namespace propnet {

/// `relu ? relu(bn(x)) : bn(x)`: the same parameters, buffers (running statistics,
/// num_batches_tracked), outputs and gradients as calling the two modules, to float rounding.
///
/// In training mode on contiguous (NCHW or channels_last) CPU tensors, float32 or bfloat16 (what a
/// convolution returns under CPU autocast; `bn`'s parameters and statistics stay float32), on x86-64
/// CPUs with AVX2 and FMA, it runs one fused kernel forward (batch statistics, normalise, ReLU) and one
/// backward (ReLU mask, BN gradient), so the activations are read and written fewer times than by
/// BatchNorm2d + ReLU, and LibTorch 1.13's CPU batch norm, far from memory bandwidth, is bypassed
/// (docs/performance.md). bfloat16 is computed in float32 and rounded once, as ATen rounds it.
/// The output and input gradient keep x's layout and type. Anywhere else (eval mode, CUDA,
/// strided views, other dtypes or CPUs) it calls `bn` and at::relu.
/// Setting PROPNET_FUSED_BN_RELU=0 in the environment turns the fused path off, for A/B benchmarks.
/// Double backward through the fused path is not supported (it throws).
at::Tensor batch_norm_relu(torch::nn::BatchNorm2dImpl& bn, const at::Tensor& x, bool relu);

/// Whether this process can take the fused path at all: the CPU has AVX2 and FMA and
/// PROPNET_FUSED_BN_RELU is not 0.
bool fused_batch_norm_relu_available();

/// Whether batch_norm_relu takes its fused path for `x` with `bn` in its current mode.
bool batch_norm_relu_is_fused(const torch::nn::BatchNorm2dImpl& bn, const at::Tensor& x);

}  // namespace propnet
