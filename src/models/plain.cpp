#include <propnet/nn/proportional.h>
#include <propnet/nn/stem.h>

#include "builders.h"

namespace propnet::models::detail {

torch::nn::Sequential build_plain(const NetworkSpec& spec, const ReluMask& mask, const StageBlocks& blocks) {
  const ArchOptions& o = spec.options;
  torch::nn::Sequential net;
  // stem: C x 32 x 32 -> 16 x 32 x 32; its ReLU is never masked (spec §2.2)
  net->push_back("stem", Stem(StemOptions(spec.in_channels, kStemWidth).bn_eps(o.bn_eps).bn_momentum(o.bn_momentum)));
  int64_t in = kStemWidth, first_conv = 0;
  for (int stage = 0; stage < 3; ++stage) {
    // stage s: conv-BN-[ReLU] x n_s at width 16 * 2^s, one site per conv
    const int64_t width = kStemWidth << stage;
    auto options = ProportionalOptions(in, width, mask.slice(first_conv, blocks[stage]))
                       .stride(stage_stride(stage))
                       .order(Order::kPost)
                       .bn_eps(o.bn_eps)
                       .bn_momentum(o.bn_momentum);
    net->push_back("stage" + std::to_string(stage + 1), Proportional(options));
    first_conv += blocks[stage];
    in = width;
  }
  // head: 64 x 8 x 8 -> num_classes
  net->push_back("head", Classifier(ClassifierOptions(in, spec.num_classes).bn_eps(o.bn_eps).bn_momentum(o.bn_momentum)));
  return net;
}

}  // namespace propnet::models::detail
