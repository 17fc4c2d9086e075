#pragma once
#include <cstdint>

#include <ATen/core/Tensor.h>

namespace propnet {

/// What one forward pass actually executed, per sample.
struct OpCounts {
  int64_t convs = 0;  ///< Convolutions applied (3x3 and 1x1, shortcuts included).
  int64_t relus = 0;  ///< ReLUs applied (each application of a ReLU module counts once).
  int64_t macs = 0;   ///< Multiply-accumulates of convs and fully connected layers, per sample.
};

/// Records the convs, ReLUs and MACs that propnet modules execute on this thread while it lives
/// (they apply every conv, ReLU and linear layer through the counting ops of src/nn/ops.h).
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

}  // namespace propnet
