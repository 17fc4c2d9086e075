#pragma once
#include <vector>

#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/pimpl.h>

#include <propnet/nn/preact_block.h>
#include <propnet/nn/preact_bottleneck.h>
#include <propnet/nn/relu_mask.h>

namespace propnet {

/// The residual unit a `ResidualStage` stacks.
enum class BlockType {
  kBasic,             ///< `BasicBlock`, post-activation (Fig. 3).
  kPreAct,            ///< `PreActBlock` (Fig. 4).
  kPreActBottleneck,  ///< `PreActBottleneck` (Figs. 7-8).
};

/// Options for `ResidualStage`: `blocks` units of one type, the first one changing the shape.
struct ResidualStageOptions {
  ResidualStageOptions(BlockType block, int64_t in_channels, int64_t out_channels, int64_t blocks,
                       ReluMask relu_mask);

  TORCH_ARG(BlockType, block);       ///< Unit type. Changing this after construction has no effect.
  TORCH_ARG(int64_t, in_channels);   ///< Channels entering the stage.
  TORCH_ARG(int64_t, out_channels);  ///< Channels of every unit's output.
  TORCH_ARG(int64_t, blocks);        ///< Units in the stage (n of the depth rule).
  /// The keep-mask every unit uses, or one for the whole stage: the units' masks one after another.
  TORCH_ARG(ReluMask, relu_mask);
  TORCH_ARG(int64_t, stride) = 1;    ///< Stride of the first unit.
  /// Pre-activation units: the first unit shares its pre-activation with the shortcut (spec §4.1).
  TORCH_ARG(bool, shared_preactivation) = true;
  TORCH_ARG(bool, shortcut_keeps_relu) = false;  ///< See `PreActBlockOptions::shortcut_keeps_relu`.
  TORCH_ARG(Shortcut, shortcut) = Shortcut::kA;  ///< `kPreAct` only.
  TORCH_ARG(BottleneckStride, bottleneck_stride) = BottleneckStride::kFirst1x1;  ///< `kPreActBottleneck` only.
  TORCH_ARG(double, bn_eps) = 2e-5;
  TORCH_ARG(double, bn_momentum) = 0.1;
};

/// One stage of a ResNet: units named "0", "1", ... so parameters read `stage2.0.conv1.weight`.
/// A `torch::nn::Sequential` cannot nest inside another, and a stage rebuilt from options keeps
/// `clone()` exact. (B, in, H, W) -> (B, out, H / stride, W / stride).
class ResidualStageImpl : public torch::nn::Cloneable<ResidualStageImpl> {
 public:
  explicit ResidualStageImpl(ResidualStageOptions options);
  void reset() override;
  /// Prints `propnet::ResidualStage(kind=preact, 16, 32, blocks=18, relu_mask=[0,1], stride=2)`.
  void pretty_print(std::ostream& stream) const override;
  torch::Tensor forward(torch::Tensor x);

  ResidualStageOptions options;

 private:
  std::vector<torch::nn::AnyModule> units_;
};
TORCH_MODULE(ResidualStage);

/// The ReLU sites of one unit of type `block`, in mask order.
const std::vector<std::string>& unit_sites(BlockType block);

}  // namespace propnet
