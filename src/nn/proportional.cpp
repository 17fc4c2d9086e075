#include <propnet/nn/proportional.h>

#include <c10/util/Exception.h>

#include "layers.h"
#include "ops.h"

namespace propnet {

ProportionalOptions::ProportionalOptions(int64_t in_channels, int64_t out_channels, ReluMask relu_mask)
    : in_channels_(in_channels), out_channels_(out_channels), relu_mask_(std::move(relu_mask)) {}

ProportionalImpl::ProportionalImpl(ProportionalOptions options_) : options(std::move(options_)) {
  reset();
}

void ProportionalImpl::reset() {
  const ReluMask& mask = options.relu_mask();
  TORCH_CHECK_VALUE(mask.units() > 0, "Proportional: relu_mask must name at least one conv unit");
  TORCH_CHECK_VALUE(options.in_channels() > 0 && options.out_channels() > 0,
                    "Proportional: expected positive channel counts (got ", options.in_channels(), ", ",
                    options.out_channels(), ")");
  TORCH_CHECK_VALUE(options.stride() >= 1, "Proportional: expected stride >= 1 (got ", options.stride(), ")");

  convs_.clear();  // clone() copies these handles first; rebuilding here keeps clones independent
  norms_.clear();
  for (int64_t i = 0; i < mask.units(); ++i) {
    const int64_t in = i == 0 ? options.in_channels() : options.out_channels();
    const int64_t normed = options.order() == Order::kPre ? in : options.out_channels();
    const std::string index = std::to_string(i);
    convs_.push_back(register_module(
        "conv" + index, detail::make_conv(in, options.out_channels(), 3, i == 0 ? options.stride() : 1)));
    norms_.push_back(
        register_module("bn" + index, detail::make_bn(normed, options.bn_eps(), options.bn_momentum())));
  }
}

torch::Tensor ProportionalImpl::forward(torch::Tensor x) {
  TORCH_CHECK(x.dim() == 4, "Proportional: expected 4D input (got ", x.dim(), "D input)");
  const ReluMask& mask = options.relu_mask();
  TORCH_CHECK_VALUE(mask.units() == static_cast<int64_t>(convs_.size()),
                    "Proportional: relu_mask has ", mask.units(), " sites but the module was built with ",
                    convs_.size(), " units; call reset() after changing the unit count");
  const bool post = options.order() == Order::kPost;
  for (int64_t i = 0; i < mask.units(); ++i) {
    const detail::Site site{this, post ? "after_conv" : "before_conv", mask.keeps(i), /*unit=*/i};
    if (post) {
      x = detail::bn_relu(*norms_[i], detail::conv(*convs_[i], x), site);
    } else {
      x = detail::conv(*convs_[i], detail::bn_relu(*norms_[i], x, site));
    }
  }
  return x;
}

void ProportionalImpl::pretty_print(std::ostream& stream) const {
  stream << "propnet::Proportional(" << options.in_channels() << ", " << options.out_channels()
         << ", relu_mask=" << options.relu_mask() << ", stride=" << options.stride()
         << ", order=" << (options.order() == Order::kPost ? "post" : "pre") << ")";
}

}  // namespace propnet
