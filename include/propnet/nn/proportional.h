#pragma once
#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include <propnet/nn/relu_mask.h>

namespace propnet {

/// Where BN and ReLU sit relative to each conv: after it (post) or before it (pre-activation).
enum class Order { kPost, kPre };

/// Options for `Proportional`.
///
/// Example:
/// ```
/// Proportional unit(ProportionalOptions(16, 32, {false, true}).stride(2));  // 2:1, downsampling
/// ```
struct ProportionalOptions {
  ProportionalOptions(int64_t in_channels, int64_t out_channels, ReluMask relu_mask);

  /// Channels of the input. Changing this after construction has no effect.
  TORCH_ARG(int64_t, in_channels);
  /// Channels produced by every conv unit. Changing this after construction has no effect.
  TORCH_ARG(int64_t, out_channels);
  /// Which units keep their ReLU; its size is the number N of 3x3 conv units.
  /// Changing this after construction is effective (no parameter depends on it).
  TORCH_ARG(ReluMask, relu_mask);
  /// Stride of the first conv unit; the rest use 1. Changing this after construction has no effect.
  TORCH_ARG(int64_t, stride) = 1;
  /// Conv-BN-ReLU (post, "paired module") or BN-ReLU-conv ("pre-paired module", paper §III.B).
  TORCH_ARG(Order, order) = Order::kPost;
  /// BatchNorm epsilon; the spec (§1) takes fusenet's 2e-5.
  TORCH_ARG(double, bn_eps) = 2e-5;
  /// BatchNorm momentum in LibTorch's convention (MXNet's 0.9 is LibTorch's 0.1, spec §1).
  TORCH_ARG(double, bn_momentum) = 0.1;
};

/// A stack of N 3x3 conv units with BN, of which only those named by the mask have a ReLU.
/// The paired module and every N:M proportional module of the paper (Fig. 2) are instances.
/// ReLU sites: one per unit, `unit0`, `unit1`, ... (after the BN for post order, before the conv for pre).
class ProportionalImpl : public torch::nn::Cloneable<ProportionalImpl> {
 public:
  explicit ProportionalImpl(ProportionalOptions options);

  /// Validates `options`, then (re)creates and registers every submodule.
  void reset() override;
  /// Prints `propnet::Proportional(16, 32, relu_mask=[0,1], stride=2, order=post)`.
  void pretty_print(std::ostream& stream) const override;
  /// Maps (B, in_channels, H, W) to (B, out_channels, H / stride, W / stride).
  torch::Tensor forward(torch::Tensor x);

  /// The options this module was built from.
  ProportionalOptions options;

 private:
  std::vector<torch::nn::Conv2d> convs_;
  std::vector<torch::nn::BatchNorm2d> norms_;
};

/// A `ModuleHolder` for `ProportionalImpl` (shared ownership, `->` access, call operator).
TORCH_MODULE(Proportional);

}  // namespace propnet
