#pragma once
// Site gates: a ReLU site's keep bit as a tensor, so that a search can score it by a gradient
// and change it without rebuilding modules or re-capturing a CUDA graph.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include <ATen/core/Tensor.h>

namespace torch::nn {
class Module;
}  // namespace torch::nn

namespace propnet {

/// Which gate each maskable ReLU site of a module tree reads: (module, site name inside it) -> index.
/// `models::site_gates(Network&)` builds it for a registry network in network-mask order.
class SiteGates {
 public:
  /// Site `name` of `owner` ("before_conv2", "3.after_conv" as `SiteEvent::name` before naming) reads gate `index`.
  void add(const torch::nn::Module* owner, const std::string& name, int64_t index);
  /// The gate of a site, or -1 when it has none (a fixed site, or a module outside the tree).
  int64_t find(const torch::nn::Module* owner, const std::string& name) const;
  int64_t size() const noexcept { return size_; }

 private:
  std::unordered_map<const torch::nn::Module*, std::unordered_map<std::string, int64_t>> index_;
  int64_t size_ = 0;
};

/// While it lives, every site `gates` knows computes `y + g * (relu(y) - y)` with g = values[index]
/// on this thread, instead of following its module's mask: g = 1 keeps the ReLU, g = 0 removes it,
/// and with `values` requiring grad, d loss / d g = <d loss / d out, relu(y) - y>, the first-order
/// benefit of the ReLU. Fixed sites (stem, head) are untouched. Scopes do not nest.
/// ```
/// GateScope scope(gates, values);   // values: (gates.size(),) float on the network's device
/// auto loss = cross_entropy(net->forward(x), y);
/// ```
class GateScope {
 public:
  GateScope(const SiteGates& gates, at::Tensor values);
  ~GateScope();
  GateScope(const GateScope&) = delete;
  GateScope& operator=(const GateScope&) = delete;

  /// The active scope of this thread, or nullptr (for propnet's ops).
  static const GateScope* active() noexcept;
  /// The gate value of a site (a 0-dim tensor), or an undefined tensor when the site has none.
  at::Tensor gate(const torch::nn::Module* owner, std::string_view name, int64_t unit) const;

 private:
  const SiteGates& gates_;
  at::Tensor values_;
  const GateScope* previous_;
};

}  // namespace propnet
