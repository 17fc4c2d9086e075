#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace torch::nn {
class Module;
}  // namespace torch::nn

namespace propnet {

/// What one forward pass actually executed, per sample.
struct OpCounts {
  int64_t convs = 0;  ///< Convolutions applied (3x3 and 1x1, shortcuts included).
  int64_t relus = 0;  ///< ReLUs applied (each application of a ReLU module counts once).
  int64_t macs = 0;   ///< Multiply-accumulates of convs and fully connected layers, per sample.
};

/// One ReLU site a forward pass went through, whether its ReLU ran or the mask removed it.
struct SiteEvent {
  /// The site's name inside its module ("before_conv2", "3.after_conv", "relu"); `named_sites`
  /// prefixes the module's path ("stage2.3.before_conv2").
  std::string name;
  const torch::nn::Module* owner = nullptr;  ///< The propnet module the site belongs to.
  bool applied = false;  ///< The ReLU ran (false: the mask removed it; the BN beside it still ran).
  bool fixed = false;    ///< No mask bit controls it (the stem's and head's ReLUs, a shortcut's kept ReLU).
  int64_t channels = 0, height = 0, width = 0;  ///< Of the tensor at the site, per image.
  int64_t elements() const noexcept { return channels * height * width; }
};

/// One conv a forward pass applied, and whether its input was rectified: where a ReLU site sits
/// physically (a kept `before_conv2` site rectifies the input of `conv2`).
struct ConvEvent {
  std::string name;  ///< "" until `named_convs` gives its path ("stage1.0.conv2").
  const torch::nn::Module* conv = nullptr;
  bool nonnegative_input = false;  ///< Every element of its input was >= 0.
};

/// Records the convs, ReLUs and MACs that propnet modules execute on this thread while it lives
/// (they apply every conv, ReLU and linear layer through the counting ops of src/nn/ops.h), and
/// every ReLU site they pass, in the order they pass it.
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
  /// Every site passed, in forward order, named inside its module.
  const std::vector<SiteEvent>& sites() const noexcept { return sites_; }
  /// Every conv applied, in forward order (one reduction of its input each: for introspection).
  const std::vector<ConvEvent>& convs() const noexcept { return convs_; }

  /// For the counting ops only.
  void record(SiteEvent event);
  void record(ConvEvent event);
  OpCounts& mutable_counts() noexcept { return counts_; }

 private:
  OpCounts counts_;
  std::vector<SiteEvent> sites_;
  std::vector<ConvEvent> convs_;
  CountingScope* previous_;
};

/// The scope's site events with their full names in `root` (module path + site, e.g.
/// "stage2.3.before_conv2"). Throws c10::Error for an event whose module is not inside `root`.
std::vector<SiteEvent> named_sites(const torch::nn::Module& root, const CountingScope& scope);
/// The scope's conv events with the convs' paths in `root`.
std::vector<ConvEvent> named_convs(const torch::nn::Module& root, const CountingScope& scope);

}  // namespace propnet
