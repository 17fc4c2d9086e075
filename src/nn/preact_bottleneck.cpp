#include <propnet/nn/preact_bottleneck.h>

#include <c10/util/Exception.h>

#include "layers.h"
#include "ops.h"

namespace propnet {

PreActBottleneckOptions::PreActBottleneckOptions(int64_t in_channels, int64_t out_channels, ReluMask relu_mask)
    : in_channels_(in_channels), out_channels_(out_channels), relu_mask_(std::move(relu_mask)) {}

PreActBottleneckImpl::PreActBottleneckImpl(PreActBottleneckOptions options_) : options(std::move(options_)) {
  reset();
}

const std::vector<std::string>& PreActBottleneckImpl::relu_sites() {
  static const std::vector<std::string> sites{"before_conv1", "before_conv2", "before_conv3"};
  return sites;
}

void PreActBottleneckImpl::reset() {
  detail::check_mask("PreActBottleneck", relu_sites(), options.relu_mask());
  const int64_t in = options.in_channels(), out = options.out_channels(), stride = options.stride();
  TORCH_CHECK_VALUE(out % 4 == 0 && out > 0,
                    "PreActBottleneck: expected out_channels divisible by the expansion 4 (got ", out, ")");
  TORCH_CHECK_VALUE(stride >= 1, "PreActBottleneck: expected stride >= 1 (got ", stride, ")");
  const int64_t width = out / 4;
  const bool first_strided = options.stride_on() == BottleneckStride::kFirst1x1;
  const double eps = options.bn_eps(), momentum = options.bn_momentum();
  bn1_ = register_module("bn1", detail::make_bn(in, eps, momentum));
  conv1_ = register_module("conv1", detail::make_conv(in, width, 1, first_strided ? stride : 1));
  bn2_ = register_module("bn2", detail::make_bn(width, eps, momentum));
  conv2_ = register_module("conv2", detail::make_conv(width, width, 3, first_strided ? 1 : stride));
  bn3_ = register_module("bn3", detail::make_bn(width, eps, momentum));
  conv3_ = register_module("conv3", detail::make_conv(width, out, 1, 1));
  shortcut_conv_ = nullptr;
  if (in != out || stride != 1) {
    shortcut_conv_ = register_module("shortcut_conv", detail::make_conv(in, out, 1, stride));
  }
}

torch::Tensor PreActBottleneckImpl::forward(const torch::Tensor& x) {
  const ReluMask& mask = options.relu_mask();
  const auto [activated, shortcut_input] = detail::pre_activate(
      bn1_, x, detail::site(this, relu_sites(), mask, 0), options.shared_preactivation(), options.shortcut_keeps_relu());
  torch::Tensor r = detail::bn_relu(*bn2_, detail::conv(*conv1_, activated), detail::site(this, relu_sites(), mask, 1));
  r = detail::bn_relu(*bn3_, detail::conv(*conv2_, r), detail::site(this, relu_sites(), mask, 2));
  r = detail::conv(*conv3_, r);
  return r + (shortcut_conv_ ? detail::conv(*shortcut_conv_, shortcut_input) : shortcut_input);
}

void PreActBottleneckImpl::pretty_print(std::ostream& stream) const {
  stream << "propnet::PreActBottleneck(" << options.in_channels() << ", " << options.out_channels()
         << ", relu_mask=" << options.relu_mask() << ", stride=" << options.stride()
         << ", shared_preactivation=" << (options.shared_preactivation() ? "true" : "false") << ")";
}

}  // namespace propnet
