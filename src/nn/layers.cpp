#include "layers.h"

namespace propnet::detail {

torch::nn::Conv2d make_conv(int64_t in_channels, int64_t out_channels, int64_t kernel, int64_t stride) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, out_channels, kernel)
                               .stride(stride)
                               .padding(kernel / 2)
                               .bias(false));
}

torch::nn::BatchNorm2d make_bn(int64_t channels, double eps, double momentum) {
  return torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(channels).eps(eps).momentum(momentum));
}

}  // namespace propnet::detail

#include <c10/util/Exception.h>

#include "ops.h"

namespace propnet::detail {

PreActivation pre_activate(torch::nn::BatchNorm2d& bn, const at::Tensor& x, const Site& site, bool shared,
                           bool shortcut_keeps_relu) {
  const at::Tensor residual = detail::bn_relu(*bn, x, site);
  if (!shared) return {residual, x};
  // A ReLU removed from the residual branch but kept for the shortcut applies to the same BN(x).
  // Gated, the residual is BN(x) + g (ReLU(BN(x)) - BN(x)), whose ReLU is ReLU(BN(x)) for any g in [0, 1].
  if (!shortcut_keeps_relu || (site.keep && !detail::is_gated(site))) return {residual, residual};
  return {residual, detail::relu(residual, Site{site.owner, "shortcut_relu", true, -1, /*fixed=*/true})};
}

std::string join_sites(const std::vector<std::string>& sites) {
  std::string text = "(";
  for (size_t i = 0; i < sites.size(); ++i) text += (i ? ", " : "") + sites[i];
  return text + ")";
}

void check_mask(std::string_view block, const std::vector<std::string>& sites, const ReluMask& mask) {
  TORCH_CHECK_VALUE(mask.units() == static_cast<int64_t>(sites.size()), block, ": expected a relu_mask of ",
                    sites.size(), " sites ", join_sites(sites), " (got \"", mask.to_string(), "\", ",
                    mask.units(), " sites)");
}

}  // namespace propnet::detail
