#pragma once
#include <string>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include <propnet/nn/relu_mask.h>
#include <propnet/nn/switches.h>

namespace propnet {


/// Options for `PreActBottleneck`, the pre-activation bottleneck unit (paper Figs. 7-8, spec §4).
struct PreActBottleneckOptions {
  PreActBottleneckOptions(int64_t in_channels, int64_t out_channels, ReluMask relu_mask);

  /// Channels of the input. Changing this after construction has no effect.
  TORCH_ARG(int64_t, in_channels);
  /// Channels of the output; the bottleneck width is out_channels / 4 (expansion 4).
  /// Changing this after construction has no effect.
  TORCH_ARG(int64_t, out_channels);
  /// Sites (before_conv1, before_conv2, before_conv3), i.e. before the first 1x1, the 3x3 and the
  /// last 1x1: "111" pre-paired; "011", "101", "110" the paper's 3:2 Types 1, 2 and 3.
  /// Changing this after construction is effective.
  TORCH_ARG(ReluMask, relu_mask);
  /// Stride of the unit. Changing this after construction has no effect.
  TORCH_ARG(int64_t, stride) = 1;
  /// Which conv carries the stride. Changing this after construction has no effect.
  TORCH_ARG(BottleneckStride, stride_on) = BottleneckStride::kFirst1x1;
  /// BN-ReLU the input once and feed it to the residual path and the projection (He's official
  /// layout for every shape-changing unit). Otherwise the projection gets raw x (bearpaw's variant).
  TORCH_ARG(bool, shared_preactivation) = false;
  /// With a shared pre-activation and the first ReLU removed: still give the projection
  /// ReLU(BN(x)) instead of BN(x) (spec §10.6).
  TORCH_ARG(bool, shortcut_keeps_relu) = false;
  /// BatchNorm epsilon (spec §1).
  TORCH_ARG(double, bn_eps) = 2e-5;
  /// BatchNorm momentum, LibTorch convention (spec §1).
  TORCH_ARG(double, bn_momentum) = 0.1;
};

/// x + F(x) with F = BN-ReLU-conv1x1(-> w/4)-BN-ReLU-conv3x3(w/4)-BN-ReLU-conv1x1(-> w); the
/// shortcut is the identity, or conv1x1(stride) without BN when the shape changes.
/// (B, in, H, W) -> (B, out, H / stride, W / stride).
class PreActBottleneckImpl : public torch::nn::Cloneable<PreActBottleneckImpl> {
 public:
  explicit PreActBottleneckImpl(PreActBottleneckOptions options);

  /// The ReLU sites in mask order: before_conv1, before_conv2, before_conv3.
  static const std::vector<std::string>& relu_sites();

  void reset() override;
  /// Prints `propnet::PreActBottleneck(16, 64, relu_mask=[0,1,1], stride=1, shared_preactivation=true)`.
  void pretty_print(std::ostream& stream) const override;
  torch::Tensor forward(const torch::Tensor& x);

  PreActBottleneckOptions options;

 private:
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr}, bn3_{nullptr};
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr}, shortcut_conv_{nullptr};
};
TORCH_MODULE(PreActBottleneck);

}  // namespace propnet
