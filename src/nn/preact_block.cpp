#include <propnet/nn/preact_block.h>

#include <c10/util/Exception.h>

#include "layers.h"
#include "ops.h"

namespace propnet {

PreActBlockOptions::PreActBlockOptions(int64_t in_channels, int64_t out_channels, ReluMask relu_mask)
    : in_channels_(in_channels), out_channels_(out_channels), relu_mask_(std::move(relu_mask)) {}

PreActBlockImpl::PreActBlockImpl(PreActBlockOptions options_) : options(std::move(options_)) { reset(); }

const std::vector<std::string>& PreActBlockImpl::relu_sites() {
  static const std::vector<std::string> sites{"before_conv1", "before_conv2"};
  return sites;
}

void PreActBlockImpl::reset() {
  detail::check_mask("PreActBlock", relu_sites(), options.relu_mask());
  const int64_t in = options.in_channels(), out = options.out_channels();
  TORCH_CHECK_VALUE(options.stride() >= 1, "PreActBlock: expected stride >= 1 (got ", options.stride(), ")");
  TORCH_CHECK_VALUE(options.shortcut() != Shortcut::kA || out >= in,
                    "PreActBlock: option A pads channels, so it needs out_channels >= in_channels (got ", in,
                    " -> ", out, "); use Shortcut::kB");
  const double eps = options.bn_eps(), momentum = options.bn_momentum();
  bn1_ = register_module("bn1", detail::make_bn(in, eps, momentum));
  conv1_ = register_module("conv1", detail::make_conv(in, out, 3, options.stride()));
  bn2_ = register_module("bn2", detail::make_bn(out, eps, momentum));
  conv2_ = register_module("conv2", detail::make_conv(out, out, 3, 1));
  shortcut_conv_ = nullptr;
  if (options.shortcut() == Shortcut::kB && (in != out || options.stride() != 1)) {
    shortcut_conv_ = register_module("shortcut_conv", detail::make_conv(in, out, 1, options.stride()));
  }
}

torch::Tensor PreActBlockImpl::shortcut(const torch::Tensor& x) {
  if (shortcut_conv_) return detail::conv(*shortcut_conv_, x);
  // Option A: the extra channels are zeros (fb.resnet.torch concatenates x * 0).
  return detail::zero_pad_shortcut(x, options.stride(), options.out_channels());
}

torch::Tensor PreActBlockImpl::forward(const torch::Tensor& x) {
  const ReluMask& mask = options.relu_mask();
  const auto [activated, shortcut_input] = detail::pre_activate(
      bn1_, x, detail::site(this, relu_sites(), mask, 0), options.shared_preactivation(), options.shortcut_keeps_relu());
  const torch::Tensor r =
      detail::bn_relu(*bn2_, detail::conv(*conv1_, activated), detail::site(this, relu_sites(), mask, 1));
  return detail::conv(*conv2_, r) + shortcut(shortcut_input);
}

void PreActBlockImpl::pretty_print(std::ostream& stream) const {
  stream << "propnet::PreActBlock(" << options.in_channels() << ", " << options.out_channels()
         << ", relu_mask=" << options.relu_mask() << ", stride=" << options.stride()
         << ", shortcut=" << (options.shortcut() == Shortcut::kA ? "A" : "B")
         << ", shared_preactivation=" << (options.shared_preactivation() ? "true" : "false") << ")";
}

}  // namespace propnet
