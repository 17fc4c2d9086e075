#pragma once
// The ops propnet's modules apply, so that a CountingScope (propnet/nn/op_counter.h) measures them.
#include <cstdint>
#include <string_view>

#include <ATen/core/Tensor.h>

namespace torch::nn {
class BatchNorm2dImpl;
class Conv2dImpl;
class LinearImpl;
class Module;
}  // namespace torch::nn

namespace propnet {

namespace detail {
/// A ReLU site as a module's forward names it: whose it is, what it is called there, and whether
/// its ReLU runs. `name` must outlive the call (the blocks pass their static site lists).
struct Site {
  const torch::nn::Module* owner;
  std::string_view name;
  bool keep;
  int64_t unit = -1;   ///< Proportional: the conv unit, prefixed to the name ("3.after_conv").
  bool fixed = false;  ///< No mask bit controls it.
};
/// `site.keep ? relu(x) : x`, or under a `GateScope` that knows the site x + g (relu(x) - x); the active
/// `CountingScope` (if any) records the site and counts the ReLU.
at::Tensor relu(const at::Tensor& x, const Site& site);
/// Whether an active `GateScope` decides this site (its mask bit does not).
bool is_gated(const Site& site);
/// `site.keep ? relu(bn(x)) : bn(x)` through propnet::batch_norm_relu (fused on CPU in training);
/// recorded like `relu`. Every propnet module applies a BN followed by a ReLU site this way.
at::Tensor bn_relu(torch::nn::BatchNorm2dImpl& bn, const at::Tensor& x, const Site& site);
/// A BN with no ReLU site after it (before an addition, in a projection).
at::Tensor bn(torch::nn::BatchNorm2dImpl& bn, const at::Tensor& x);
/// Runs `conv` on `x` and records one conv and its MACs.
at::Tensor conv(torch::nn::Conv2dImpl& conv, const at::Tensor& x);
/// Runs `linear` on `x` and records its MACs.
at::Tensor linear(torch::nn::LinearImpl& linear, const at::Tensor& x);
}  // namespace detail

}  // namespace propnet
