#pragma once
#include <string>
#include <tuple>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include <propnet/nn/relu_mask.h>
#include <propnet/nn/switches.h>

namespace propnet {


/// Options for `MergeAndRun`, the merge-and-run block of DFN-MR (paper Fig. 5, Table III; spec §3).
struct MergeAndRunOptions {
  MergeAndRunOptions(int64_t in_channels, int64_t out_channels, ReluMask relu_mask);

  /// Channels of each input. Changing this after construction has no effect.
  TORCH_ARG(int64_t, in_channels);
  /// Channels of each branch and output. Changing this after construction has no effect.
  TORCH_ARG(int64_t, out_channels);
  /// Sites (branch1_mid, branch1_after_add, branch2_mid, branch2_after_add): "1111" paired,
  /// "1011" Type 1 (branch 1 loses its ReLU after the addition), "0111" Type 2 (branch 1 loses
  /// its mid ReLU). Changing this after construction is effective.
  TORCH_ARG(ReluMask, relu_mask);
  /// Stride of each branch's first conv and of the projections. Changing it has no effect.
  TORCH_ARG(int64_t, stride) = 1;
  /// Used by `forward_merged` only.
  TORCH_ARG(FinalMerge, final_merge) = FinalMerge::kSum;
  /// BatchNorm epsilon (spec §1).
  TORCH_ARG(double, bn_eps) = 2e-5;
  /// BatchNorm momentum, LibTorch convention (spec §1).
  TORCH_ARG(double, bn_momentum) = 0.1;
};

/// Two branches D_i = conv3x3-BN-[ReLU]-conv3x3-BN (no ReLU at the branch end), each with its own
/// shortcut P_i (identity, or conv1x1(stride)+BN when the shape changes). Merge: M = (P1(x1) + P2(x2)) / 2;
/// run: y_i = ReLU(M + D_i(x_i)). Inputs and outputs are (B, C, H, W) pairs.
class MergeAndRunImpl : public torch::nn::Cloneable<MergeAndRunImpl> {
 public:
  explicit MergeAndRunImpl(MergeAndRunOptions options);

  /// The ReLU sites in mask order: branch1_mid, branch1_after_add, branch2_mid, branch2_after_add.
  static const std::vector<std::string>& relu_sites();
  /// The sites of a network's last block (`forward_merged`), in network-mask order: branch1_mid,
  /// branch2_mid, after_merge (its one ReLU after the merge, kept when either after-add site is).
  static const std::vector<std::string>& merged_relu_sites();
  /// A block pattern over `relu_sites` as the last block's 3 `merged_relu_sites`: (m1, a1, m2, a2)
  /// -> (m1, m2, a1 or a2), the one ReLU after the merge kept when either after-add site is (spec §3.6 (b)).
  static ReluMask merged_mask(const ReluMask& pattern);

  void reset() override;
  /// Prints `propnet::MergeAndRun(16, 32, relu_mask=[1,0,1,1], stride=2)`.
  void pretty_print(std::ostream& stream) const override;
  /// (x1, x2) -> (y1, y2).
  std::tuple<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x1, const torch::Tensor& x2);
  /// The network's last block: one tensor ReLU(M + D1 + D2) (or 2M, see `final_merge`). Its single
  /// ReLU is kept when either after-add site is kept (spec §3.6 (b)); mid sites apply as usual.
  torch::Tensor forward_merged(const torch::Tensor& x1, const torch::Tensor& x2);

  MergeAndRunOptions options;

 private:
  struct Parts {
    torch::Tensor merged, residual1, residual2;
  };
  Parts run_branches(const torch::Tensor& x1, const torch::Tensor& x2);
  torch::Tensor branch(int index, const torch::Tensor& x);
  torch::Tensor project(int index, const torch::Tensor& x);

  torch::nn::Conv2d conv_a_[2]{nullptr, nullptr}, conv_b_[2]{nullptr, nullptr}, proj_[2]{nullptr, nullptr};
  torch::nn::BatchNorm2d bn_a_[2]{nullptr, nullptr}, bn_b_[2]{nullptr, nullptr}, proj_bn_[2]{nullptr, nullptr};
};
TORCH_MODULE(MergeAndRun);

/// Options for `MergeAndRunStage`: the blocks of one DFN-MR stage behind a one-tensor interface.
struct MergeAndRunStageOptions {
  MergeAndRunStageOptions(int64_t in_channels, int64_t out_channels, int64_t blocks, ReluMask relu_mask);

  TORCH_ARG(int64_t, in_channels);   ///< Channels of each branch entering the stage.
  TORCH_ARG(int64_t, out_channels);  ///< Channels of each branch in the stage.
  TORCH_ARG(int64_t, blocks);        ///< Merge-and-run blocks in the stage.
  /// The 4-site mask every block uses, or one mask for the whole stage: 4 sites per block, in block
  /// order, the merging last block (`merge_at_end`) with its 3 `merged_relu_sites` (`sites()` in all).
  TORCH_ARG(ReluMask, relu_mask);
  TORCH_ARG(int64_t, stride) = 1;    ///< Stride of the first block.
  /// The input is one tensor that both branches start from (the stem output, stage 1);
  /// otherwise it is the two branches concatenated on channels.
  TORCH_ARG(bool, shared_input) = false;
  /// The last block merges both branches into one tensor (the network's last stage).
  TORCH_ARG(bool, merge_at_end) = false;
  TORCH_ARG(FinalMerge, final_merge) = FinalMerge::kSum;
  TORCH_ARG(double, bn_eps) = 2e-5;
  TORCH_ARG(double, bn_momentum) = 0.1;

  /// ReLU sites in the stage: 4 per block, 3 in a merging last block.
 public:  // TORCH_ARG leaves the section private
  int64_t sites() const;
};

/// Carries the branch pair between stages as one channel-concatenated tensor, so DFN-MR fits a
/// `torch::nn::Sequential` like every other network: (B, in or 2*in, H, W) -> (B, 2*out or out, H', W').
class MergeAndRunStageImpl : public torch::nn::Cloneable<MergeAndRunStageImpl> {
 public:
  explicit MergeAndRunStageImpl(MergeAndRunStageOptions options);
  void reset() override;
  /// Prints `propnet::MergeAndRunStage(16, 32, blocks=9, relu_mask=[1,1,1,1], stride=2)`.
  void pretty_print(std::ostream& stream) const override;
  torch::Tensor forward(const torch::Tensor& x);

  MergeAndRunStageOptions options;

 private:
  ReluMask block_mask(int64_t block) const;  // block `block`'s 4-site mask

  std::vector<MergeAndRun> blocks_;
};
TORCH_MODULE(MergeAndRunStage);

}  // namespace propnet
