#pragma once
#include <string>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include <propnet/nn/relu_mask.h>

namespace propnet {

/// Options for `BasicBlock`, the post-activation ResNet building block (paper Fig. 3, spec §5).
struct BasicBlockOptions {
  BasicBlockOptions(int64_t in_channels, int64_t out_channels, ReluMask relu_mask);

  /// Channels of the input. Changing this after construction has no effect.
  TORCH_ARG(int64_t, in_channels);
  /// Channels of both convs and of the output. Changing this after construction has no effect.
  TORCH_ARG(int64_t, out_channels);
  /// Sites (after_bn1, after_add): "11" paired, "01" removes the first ReLU, "10" the last.
  /// Changing this after construction is effective.
  TORCH_ARG(ReluMask, relu_mask);
  /// Stride of the first conv and of the projection shortcut. Changing it has no effect.
  TORCH_ARG(int64_t, stride) = 1;
  /// BatchNorm epsilon (spec §1).
  TORCH_ARG(double, bn_eps) = 2e-5;
  /// BatchNorm momentum, LibTorch convention (spec §1).
  TORCH_ARG(double, bn_momentum) = 0.1;
};

/// y = ReLU(P(x) + BN(conv(ReLU(BN(conv(x)))))), each ReLU present only if its site is kept.
/// P is the identity, or conv1x1(stride) + BN when the shape changes (fusenet `resnet.py`).
/// (B, in, H, W) -> (B, out, H / stride, W / stride).
class BasicBlockImpl : public torch::nn::Cloneable<BasicBlockImpl> {
 public:
  explicit BasicBlockImpl(BasicBlockOptions options);

  /// The ReLU sites in mask order: after_bn1, after_add.
  static const std::vector<std::string>& relu_sites();

  void reset() override;
  /// Prints `propnet::BasicBlock(16, 32, relu_mask=[0,1], stride=2)`.
  void pretty_print(std::ostream& stream) const override;
  torch::Tensor forward(const torch::Tensor& x);

  BasicBlockOptions options;

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, shortcut_conv_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr}, shortcut_bn_{nullptr};
};
TORCH_MODULE(BasicBlock);

}  // namespace propnet
