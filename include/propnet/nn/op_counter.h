#pragma once
#include <cstdint>

#include <ATen/core/Tensor.h>

namespace torch::nn {
class BatchNorm2dImpl;
class Conv2dImpl;
class LinearImpl;
}  // namespace torch::nn

namespace propnet {

/// What one forward pass actually executed, per sample.
struct OpCounts {
  int64_t convs = 0;  ///< Convolutions applied (3x3 and 1x1, shortcuts included).
  int64_t relus = 0;  ///< ReLUs applied (each application of a ReLU module counts once).
  int64_t macs = 0;   ///< Multiply-accumulates of convs and fully connected layers, per sample.
};

/// Records the convs, ReLUs and MACs that propnet modules execute on this thread while it lives.
///
/// Counting is measurement, not bookkeeping: a block that skips a ReLU because of its mask is
/// simply not counted. Scopes do not nest; outside a scope the hooks cost one thread-local load.
/// ```
/// CountingScope scope;
/// net->forward(torch::zeros({1, 3, 32, 32}));
/// scope.counts().relus;  // ReLUs in one forward pass
/// ```
class CountingScope {
 public:
  CountingScope();
  ~CountingScope();
  CountingScope(const CountingScope&) = delete;
  CountingScope& operator=(const CountingScope&) = delete;

  const OpCounts& counts() const noexcept { return counts_; }

 private:
  OpCounts counts_;
  OpCounts* previous_;
};

namespace detail {
/// ReLU that the active `CountingScope` (if any) records. Every propnet module applies ReLUs this way.
at::Tensor relu(const at::Tensor& x);
/// `relu ? relu(bn(x)) : bn(x)` through propnet::batch_norm_relu (fused on CPU in training); records
/// the ReLU like `relu`. Every propnet module applies a BN followed by a ReLU this way.
at::Tensor bn_relu(torch::nn::BatchNorm2dImpl& bn, const at::Tensor& x, bool relu);
/// Runs `conv` on `x` and records one conv and its MACs.
at::Tensor conv(torch::nn::Conv2dImpl& conv, const at::Tensor& x);
/// Runs `linear` on `x` and records its MACs.
at::Tensor linear(torch::nn::LinearImpl& linear, const at::Tensor& x);
}  // namespace detail

}  // namespace propnet
