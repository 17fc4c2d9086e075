#include <propnet/nn/init.h>

#include <cmath>

#include <torch/nn/init.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/utils.h>

namespace propnet {

namespace {

void init_module(torch::nn::Module& m, const torch::nn::init::FanModeType& fan) {
  if (auto* conv = m.as<torch::nn::Conv2d>()) {
    torch::nn::init::kaiming_normal_(conv->weight, 0.0, fan, torch::kReLU);
  } else if (auto* bn = m.as<torch::nn::BatchNorm2d>()) {
    torch::nn::init::ones_(bn->weight);
    torch::nn::init::zeros_(bn->bias);
  } else if (auto* fc = m.as<torch::nn::Linear>()) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(fc->options.in_features()));
    torch::nn::init::uniform_(fc->weight, -bound, bound);
    torch::nn::init::zeros_(fc->bias);  // fusenet zeroes it; LibTorch's default would not
  }
}

}  // namespace

void init_parameters(torch::nn::Module& module, ConvInit conv_init) {
  torch::NoGradGuard no_grad;
  const torch::nn::init::FanModeType fan =
      conv_init == ConvInit::kFanIn ? torch::nn::init::FanModeType(torch::kFanIn) : torch::kFanOut;
  // include_self=false: `module` may still be under construction (not yet owned by a shared_ptr).
  init_module(module, fan);
  for (const auto& child : module.modules(/*include_self=*/false)) init_module(*child, fan);
}

}  // namespace propnet
