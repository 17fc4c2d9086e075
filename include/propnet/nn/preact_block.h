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


/// Options for `PreActBlock`, the pre-activation building block (paper Fig. 4, Table II; spec §4).
struct PreActBlockOptions {
  PreActBlockOptions(int64_t in_channels, int64_t out_channels, ReluMask relu_mask);

  /// Channels of the input. Changing this after construction has no effect.
  TORCH_ARG(int64_t, in_channels);
  /// Channels of both convs and of the output. Changing this after construction has no effect.
  TORCH_ARG(int64_t, out_channels);
  /// Sites (before_conv1, before_conv2): "11" pre-paired, "01" the paper's 2:1 pre-proportional
  /// module ("remove the first ReLU"). Changing this after construction is effective.
  TORCH_ARG(ReluMask, relu_mask);
  /// Stride of the first conv and of the shortcut. Changing this after construction has no effect.
  TORCH_ARG(int64_t, stride) = 1;
  /// Shape-changing shortcut type. Changing this after construction has no effect.
  TORCH_ARG(Shortcut, shortcut) = Shortcut::kA;
  /// BN-ReLU the input once and feed it to both paths ("both_preact" of fb.resnet.torch); the
  /// builders set it on the first unit of every stage (spec §4.1). Otherwise the shortcut gets raw x.
  TORCH_ARG(bool, shared_preactivation) = false;
  /// With a shared pre-activation and the first ReLU removed: still give the shortcut ReLU(BN(x))
  /// instead of BN(x) (spec §10.6 names both readings; the default removes it from both paths).
  TORCH_ARG(bool, shortcut_keeps_relu) = false;
  /// BatchNorm epsilon (spec §1).
  TORCH_ARG(double, bn_eps) = 2e-5;
  /// BatchNorm momentum, LibTorch convention (spec §1).
  TORCH_ARG(double, bn_momentum) = 0.1;
};

/// x + F(x) with F = BN-ReLU-conv3x3-BN-ReLU-conv3x3 and no activation after the addition;
/// each ReLU present only if its site is kept. (B, in, H, W) -> (B, out, H / stride, W / stride).
class PreActBlockImpl : public torch::nn::Cloneable<PreActBlockImpl> {
 public:
  explicit PreActBlockImpl(PreActBlockOptions options);

  /// The ReLU sites in mask order: before_conv1, before_conv2.
  static const std::vector<std::string>& relu_sites();

  void reset() override;
  /// Prints `propnet::PreActBlock(16, 32, relu_mask=[0,1], stride=2, shortcut=A, shared_preactivation=true)`.
  void pretty_print(std::ostream& stream) const override;
  torch::Tensor forward(const torch::Tensor& x);

  PreActBlockOptions options;

 private:
  torch::Tensor shortcut(const torch::Tensor& x);

  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr};
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, shortcut_conv_{nullptr};
};
TORCH_MODULE(PreActBlock);

}  // namespace propnet
