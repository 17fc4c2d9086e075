#pragma once
// The per-family builders behind the registry. The registry has already validated the depth and
// resolved the network mask (one bit per site instance, network_mask.h), so builders only lay out
// modules and hand each stage its slice of the mask.
#include <torch/nn/modules/container/sequential.h>

#include <propnet/models/depth.h>
#include <propnet/models/network_spec.h>
#include <propnet/nn/relu_mask.h>

namespace propnet::models::detail {

/// Stage widths of the 16/32/64 networks.
constexpr int64_t kStemWidth = 16;
/// Stage stride: stages 2 and 3 downsample with a stride-2 conv (spec §1).
constexpr int64_t stage_stride(int stage) { return stage == 0 ? 1 : 2; }

/// The registry's layers for `spec`, validated but not initialised; `NetworkImpl` adopts its children.
torch::nn::Sequential build_layers(const NetworkSpec& spec);

torch::nn::Sequential build_plain(const NetworkSpec& spec, const ReluMask& mask, const StageBlocks& blocks);
torch::nn::Sequential build_resnet(const NetworkSpec& spec, const ReluMask& mask, const StageBlocks& blocks);
torch::nn::Sequential build_preresnet(const NetworkSpec& spec, const ReluMask& mask, const StageBlocks& blocks);
torch::nn::Sequential build_preresnet_bottleneck(const NetworkSpec& spec, const ReluMask& mask,
                                                 const StageBlocks& blocks);
torch::nn::Sequential build_dfn_mr(const NetworkSpec& spec, const ReluMask& mask, const StageBlocks& blocks);

}  // namespace propnet::models::detail
