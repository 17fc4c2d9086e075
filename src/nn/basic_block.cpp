#include <propnet/nn/basic_block.h>

#include <c10/util/Exception.h>

#include "layers.h"
#include "ops.h"

namespace propnet {

BasicBlockOptions::BasicBlockOptions(int64_t in_channels, int64_t out_channels, ReluMask relu_mask)
    : in_channels_(in_channels), out_channels_(out_channels), relu_mask_(std::move(relu_mask)) {}

BasicBlockImpl::BasicBlockImpl(BasicBlockOptions options_) : options(std::move(options_)) { reset(); }

const std::vector<std::string>& BasicBlockImpl::relu_sites() {
  static const std::vector<std::string> sites{"after_bn1", "after_add"};
  return sites;
}

void BasicBlockImpl::reset() {
  detail::check_mask("BasicBlock", relu_sites(), options.relu_mask());
  TORCH_CHECK_VALUE(options.stride() >= 1, "BasicBlock: expected stride >= 1 (got ", options.stride(), ")");
  const int64_t in = options.in_channels(), out = options.out_channels();
  const double eps = options.bn_eps(), momentum = options.bn_momentum();
  conv1_ = register_module("conv1", detail::make_conv(in, out, 3, options.stride()));
  bn1_ = register_module("bn1", detail::make_bn(out, eps, momentum));
  conv2_ = register_module("conv2", detail::make_conv(out, out, 3, 1));
  bn2_ = register_module("bn2", detail::make_bn(out, eps, momentum));
  shortcut_conv_ = nullptr;
  shortcut_bn_ = nullptr;
  if (in != out || options.stride() != 1) {
    shortcut_conv_ = register_module("shortcut_conv", detail::make_conv(in, out, 1, options.stride()));
    shortcut_bn_ = register_module("shortcut_bn", detail::make_bn(out, eps, momentum));
  }
}

torch::Tensor BasicBlockImpl::forward(const torch::Tensor& x) {
  const ReluMask& mask = options.relu_mask();
  torch::Tensor r = detail::bn_relu(*bn1_, detail::conv(*conv1_, x), detail::site(this, relu_sites(), mask, 0));
  r = detail::bn(*bn2_, detail::conv(*conv2_, r));
  torch::Tensor y = r + (shortcut_conv_ ? detail::bn(*shortcut_bn_, detail::conv(*shortcut_conv_, x)) : x);
  return detail::relu(y, detail::site(this, relu_sites(), mask, 1));
}

void BasicBlockImpl::pretty_print(std::ostream& stream) const {
  stream << "propnet::BasicBlock(" << options.in_channels() << ", " << options.out_channels()
         << ", relu_mask=" << options.relu_mask() << ", stride=" << options.stride() << ")";
}

}  // namespace propnet
