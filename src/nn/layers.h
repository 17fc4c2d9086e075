#pragma once
// Internal helpers of propnet's blocks (not installed): conv/BN factories, the pre-activation split,
// the option-A shortcut and ReLU-mask checks.
#include <string>
#include <string_view>
#include <vector>

#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>

#include <propnet/nn/relu_mask.h>

#include "ops.h"

namespace propnet::detail {

/// A bias-free 3x3 (padding 1) or 1x1 (padding 0) convolution, as every propnet conv is (spec §1).
torch::nn::Conv2d make_conv(int64_t in_channels, int64_t out_channels, int64_t kernel, int64_t stride);
/// BatchNorm2d with the given eps and momentum (propnet's defaults are 2e-5 and 0.1, spec §1).
torch::nn::BatchNorm2d make_bn(int64_t channels, double eps, double momentum);
/// The two inputs of a pre-activation unit after its first BN-[ReLU] (spec §4.1, §10.6).
struct PreActivation {
  at::Tensor residual;  ///< BN(x), ReLU'd when the first site keeps its ReLU.
  at::Tensor shortcut;  ///< Raw x, or (shared pre-activation) the residual input, or ReLU(BN(x)) when
                        ///< the first ReLU is removed but kept for the shortcut.
};
/// Applies a unit's first BN (`bn`) and its first ReLU site `site`; see `PreActivation`. A ReLU
/// kept for the shortcut alone is the fixed site "shortcut_relu" of the same module.
PreActivation pre_activate(torch::nn::BatchNorm2d& bn, const at::Tensor& x, const Site& site, bool shared,
                           bool shortcut_keeps_relu);

/// Site `index` of a block whose sites are `names` (its static list) under `mask`.
inline Site site(const torch::nn::Module* owner, const std::vector<std::string>& names, const ReluMask& mask,
                 int64_t index) {
  return {owner, names.at(static_cast<size_t>(index)), mask.keeps(index)};
}

/// The parameter-free option-A shortcut (spec §10.1): x subsampled by `stride`, its channels padded
/// with zeros to `out_channels`. Forward and backward keep x's memory format (slicing and padding
/// ATen ops would hand channels_last networks an NCHW gradient, and every later op a layout change).
at::Tensor zero_pad_shortcut(const at::Tensor& x, int64_t stride, int64_t out_channels);

/// "(before_conv1, before_conv2)": a block's ReLU sites, in mask order, for messages.
std::string join_sites(const std::vector<std::string>& sites);
/// Throws c10::ValueError naming the block's sites unless `mask` has one entry per site.
void check_mask(std::string_view block, const std::vector<std::string>& sites, const ReluMask& mask);

}  // namespace propnet::detail
