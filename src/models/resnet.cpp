#include <propnet/nn/basic_block.h>
#include <propnet/nn/residual_stage.h>
#include <propnet/nn/stem.h>

#include "builders.h"

namespace propnet::models::detail {

torch::nn::Sequential build_resnet(const NetworkSpec& spec, const ReluMask& mask, const StageBlocks& blocks) {
  const ArchOptions& o = spec.options;
  torch::nn::Sequential net;
  net->push_back("stem", Stem(StemOptions(spec.in_channels, kStemWidth).bn_eps(o.bn_eps).bn_momentum(o.bn_momentum)));
  int64_t in = kStemWidth, first_site = 0;
  const int64_t sites = static_cast<int64_t>(BasicBlockImpl::relu_sites().size());
  for (int stage = 0; stage < 3; ++stage) {
    // stage s: 16 * 2^(s-1) x H -> 16 * 2^s x H / stride; the first unit projects when the shape changes
    const int64_t width = kStemWidth << stage;
    auto options = ResidualStageOptions(BlockType::kBasic, in, width, blocks[stage],
                                        mask.slice(first_site, sites * blocks[stage]))
                       .stride(stage_stride(stage))
                       .bn_eps(o.bn_eps)
                       .bn_momentum(o.bn_momentum);
    net->push_back("stage" + std::to_string(stage + 1), ResidualStage(options));
    first_site += sites * blocks[stage];
    in = width;
  }
  net->push_back("head", Classifier(ClassifierOptions(in, spec.num_classes).bn_eps(o.bn_eps).bn_momentum(o.bn_momentum)));
  return net;
}

}  // namespace propnet::models::detail
