#include <propnet/nn/merge_and_run.h>
#include <propnet/nn/stem.h>

#include "builders.h"

namespace propnet::models::detail {

torch::nn::Sequential build_dfn_mr(const NetworkSpec& spec, const ReluMask& mask, const StageBlocks& blocks) {
  const ArchOptions& o = spec.options;
  torch::nn::Sequential net;
  // stem: conv-BN-ReLU -> x0 at width 16k; both branches of stage 1 start from x0 (spec §3.2). A 16k-wide
  // stem is what reproduces the README's DFN-MR2 count (k = 4, depth 62: 14,851,402 parameters).
  const int64_t stem_width = kStemWidth * spec.widen_factor;
  net->push_back("stem", Stem(StemOptions(spec.in_channels, stem_width).bn_eps(o.bn_eps).bn_momentum(o.bn_momentum)));
  int64_t in = stem_width, first_site = 0;
  for (int stage = 0; stage < 3; ++stage) {
    // stage s: two branches of width 16k * 2^s, carried as one 2x-channel tensor between stages;
    // stage 3 ends in one merged tensor
    const int64_t width = (kStemWidth * spec.widen_factor) << stage;
    auto options = MergeAndRunStageOptions(in, width, blocks[stage], ReluMask::paired(4))
                       .stride(stage_stride(stage))
                       .shared_input(stage == 0)
                       .merge_at_end(stage == 2)
                       .final_merge(o.final_merge)
                       .bn_eps(o.bn_eps)
                       .bn_momentum(o.bn_momentum);
    options.relu_mask(mask.slice(first_site, options.sites()));  // this stage's sites of the network mask
    first_site += options.sites();
    net->push_back("stage" + std::to_string(stage + 1), MergeAndRunStage(options));
    in = width;
  }
  net->push_back("head", Classifier(ClassifierOptions(in, spec.num_classes).bn_eps(o.bn_eps).bn_momentum(o.bn_momentum)));
  return net;
}

}  // namespace propnet::models::detail
