#pragma once
#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

namespace propnet {

/// Options for `Stem`, the first 3x3 conv of every network (spec §1).
struct StemOptions {
  StemOptions(int64_t in_channels, int64_t out_channels);

  /// 3 for CIFAR, 1 for Fashion-MNIST. Changing this after construction has no effect.
  TORCH_ARG(int64_t, in_channels);
  /// 16 in every network of the paper. Changing this after construction has no effect.
  TORCH_ARG(int64_t, out_channels);
  /// Follow the conv with BN-ReLU (plain, ResNet, DFN-MR) or not (pre-activation ResNets, whose
  /// first unit activates its input). Changing this after construction has no effect.
  TORCH_ARG(bool, bn_relu) = true;
  /// BatchNorm epsilon (spec §1).
  TORCH_ARG(double, bn_eps) = 2e-5;
  /// BatchNorm momentum, LibTorch convention (spec §1).
  TORCH_ARG(double, bn_momentum) = 0.1;
};

/// conv3x3(in -> out) [- BN - ReLU]: (B, in, H, W) -> (B, out, H, W). Its ReLU is never masked.
class StemImpl : public torch::nn::Cloneable<StemImpl> {
 public:
  explicit StemImpl(StemOptions options);
  void reset() override;
  /// Prints `propnet::Stem(3, 16, bn_relu=true)`.
  void pretty_print(std::ostream& stream) const override;
  torch::Tensor forward(const torch::Tensor& x);

  StemOptions options;

 private:
  torch::nn::Conv2d conv_{nullptr};
  torch::nn::BatchNorm2d bn_{nullptr};
};
TORCH_MODULE(Stem);

/// Options for `Classifier`, the head of every network: [BN-ReLU -] global average pool - FC.
struct ClassifierOptions {
  ClassifierOptions(int64_t in_channels, int64_t num_classes);

  /// Channels of the last stage (64 * widen factor, or 256 for the bottleneck ResNet).
  TORCH_ARG(int64_t, in_channels);
  /// Size of the FC output. Changing this after construction has no effect.
  TORCH_ARG(int64_t, num_classes);
  /// The final BN-ReLU of pre-activation ResNets (spec §4.1); it belongs to no unit and is always kept.
  TORCH_ARG(bool, pre_activation) = false;
  /// BatchNorm epsilon (spec §1).
  TORCH_ARG(double, bn_eps) = 2e-5;
  /// BatchNorm momentum, LibTorch convention (spec §1).
  TORCH_ARG(double, bn_momentum) = 0.1;
};

/// (B, C, H, W) -> (B, num_classes) logits; the pool averages over all of H x W (8x8 for 32x32 input).
class ClassifierImpl : public torch::nn::Cloneable<ClassifierImpl> {
 public:
  explicit ClassifierImpl(ClassifierOptions options);
  void reset() override;
  /// Prints `propnet::Classifier(64, 10, pre_activation=false)`.
  void pretty_print(std::ostream& stream) const override;
  torch::Tensor forward(const torch::Tensor& x);

  ClassifierOptions options;

 private:
  torch::nn::BatchNorm2d bn_{nullptr};
  torch::nn::Linear fc_{nullptr};
};
TORCH_MODULE(Classifier);

}  // namespace propnet
