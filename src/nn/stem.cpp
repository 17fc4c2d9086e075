#include <propnet/nn/stem.h>

#include <c10/util/Exception.h>
#include <torch/nn/modules/linear.h>

#include "layers.h"
#include "ops.h"

namespace propnet {

StemOptions::StemOptions(int64_t in_channels, int64_t out_channels)
    : in_channels_(in_channels), out_channels_(out_channels) {}

StemImpl::StemImpl(StemOptions options_) : options(std::move(options_)) { reset(); }

void StemImpl::reset() {
  TORCH_CHECK_VALUE(options.in_channels() > 0 && options.out_channels() > 0,
                    "Stem: expected positive channel counts (got ", options.in_channels(), ", ",
                    options.out_channels(), ")");
  conv_ = register_module("conv", detail::make_conv(options.in_channels(), options.out_channels(), 3, 1));
  bn_ = nullptr;
  if (options.bn_relu()) {
    bn_ = register_module("bn", detail::make_bn(options.out_channels(), options.bn_eps(), options.bn_momentum()));
  }
}

torch::Tensor StemImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == options.in_channels(), "Stem: expected input of shape (B, ",
              options.in_channels(), ", H, W) (got ", x.sizes(), ")");
  torch::Tensor y = detail::conv(*conv_, x);
  return options.bn_relu() ? detail::bn_relu(*bn_, y, detail::Site{this, "relu", true, -1, /*fixed=*/true}) : y;
}

void StemImpl::pretty_print(std::ostream& stream) const {
  stream << "propnet::Stem(" << options.in_channels() << ", " << options.out_channels()
         << ", bn_relu=" << (options.bn_relu() ? "true" : "false") << ")";
}

ClassifierOptions::ClassifierOptions(int64_t in_channels, int64_t num_classes)
    : in_channels_(in_channels), num_classes_(num_classes) {}

ClassifierImpl::ClassifierImpl(ClassifierOptions options_) : options(std::move(options_)) { reset(); }

void ClassifierImpl::reset() {
  TORCH_CHECK_VALUE(options.num_classes() >= 2, "Classifier: expected at least 2 classes (got ",
                    options.num_classes(), ")");
  bn_ = nullptr;
  if (options.pre_activation()) {
    bn_ = register_module("bn", detail::make_bn(options.in_channels(), options.bn_eps(), options.bn_momentum()));
  }
  fc_ = register_module("fc", torch::nn::Linear(options.in_channels(), options.num_classes()));
}

torch::Tensor ClassifierImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == options.in_channels(), "Classifier: expected input of shape (B, ",
              options.in_channels(), ", H, W) (got ", x.sizes(), ")");
  torch::Tensor y =
      options.pre_activation() ? detail::bn_relu(*bn_, x, detail::Site{this, "relu", true, -1, /*fixed=*/true}) : x;
  return detail::linear(*fc_, y.mean({2, 3}));
}

void ClassifierImpl::pretty_print(std::ostream& stream) const {
  stream << "propnet::Classifier(" << options.in_channels() << ", " << options.num_classes()
         << ", pre_activation=" << (options.pre_activation() ? "true" : "false") << ")";
}

}  // namespace propnet
