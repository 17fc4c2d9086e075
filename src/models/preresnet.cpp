#include <propnet/nn/residual_stage.h>
#include <propnet/nn/stem.h>

#include "builders.h"

namespace propnet::models::detail {
namespace {

// Shared by both pre-activation families: bare-conv stem, three stages, BN-ReLU head.
torch::nn::Sequential build_preactivated(const NetworkSpec& spec, const ReluMask& mask, const StageBlocks& blocks,
                                         BlockType block, int64_t expansion) {
  const ArchOptions& o = spec.options;
  torch::nn::Sequential net;
  // stem: a bare conv; the first unit activates its input (spec §4.1)
  net->push_back("stem", Stem(StemOptions(spec.in_channels, kStemWidth).bn_relu(false)));
  int64_t in = kStemWidth, first_site = 0;
  const auto sites = static_cast<int64_t>(unit_sites(block).size());
  for (int stage = 0; stage < 3; ++stage) {
    // stage s: outputs 16/32/64 (x4 for bottlenecks); the first unit downsamples (stages 2, 3)
    // and shares its pre-activation with the shortcut
    const int64_t width = (kStemWidth << stage) * expansion;
    auto options = ResidualStageOptions(block, in, width, blocks[stage], mask.slice(first_site, sites * blocks[stage]))
                       .stride(stage_stride(stage))
                       .shared_preactivation(o.shared_preactivation)
                       .shortcut_keeps_relu(o.shortcut_keeps_relu)
                       .shortcut(o.shortcut)
                       .bottleneck_stride(o.bottleneck_stride)
                       .bn_eps(o.bn_eps)
                       .bn_momentum(o.bn_momentum);
    net->push_back("stage" + std::to_string(stage + 1), ResidualStage(options));
    first_site += sites * blocks[stage];
    in = width;
  }
  // head: the final BN-ReLU belongs to no unit and is always kept (spec §4.2)
  net->push_back("head", Classifier(ClassifierOptions(in, spec.num_classes)
                                        .pre_activation(true)
                                        .bn_eps(o.bn_eps)
                                        .bn_momentum(o.bn_momentum)));
  return net;
}

}  // namespace

torch::nn::Sequential build_preresnet(const NetworkSpec& spec, const ReluMask& mask, const StageBlocks& blocks) {
  return build_preactivated(spec, mask, blocks, BlockType::kPreAct, 1);
}

torch::nn::Sequential build_preresnet_bottleneck(const NetworkSpec& spec, const ReluMask& mask,
                                                 const StageBlocks& blocks) {
  constexpr int64_t kExpansion = 4;  // [1x1,16][3x3,16][1x1,64] (He et al., ECCV'16 appendix)
  return build_preactivated(spec, mask, blocks, BlockType::kPreActBottleneck, kExpansion);
}

}  // namespace propnet::models::detail
