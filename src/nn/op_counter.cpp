#include <propnet/nn/op_counter.h>

#include "ops.h"

#include <unordered_map>

#include <ATen/ops/relu.h>
#include <c10/util/Exception.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <propnet/nn/batch_norm_relu.h>
#include <propnet/nn/site_gates.h>

namespace propnet {
namespace {
thread_local CountingScope* active_counting_scope = nullptr;

// The gate of a maskable site under an active GateScope, else an undefined tensor.
at::Tensor gate_of(const detail::Site& site) {
  const GateScope* gates = site.fixed ? nullptr : GateScope::active();
  return gates == nullptr ? at::Tensor() : gates->gate(site.owner, site.name, site.unit);
}

// y + g (relu(y) - y): relu(y) at g = 1 and y at g = 0, exactly; d/dg = relu(y) - y.
at::Tensor apply_gate(const at::Tensor& y, const at::Tensor& gate) { return y + gate * (at::relu(y) - y); }

void record_site(const at::Tensor& x, const detail::Site& site, const at::Tensor& gate = {}) {
  if (active_counting_scope == nullptr) return;
  SiteEvent event;
  event.name = site.unit >= 0 ? std::to_string(site.unit) + "." + std::string(site.name) : std::string(site.name);
  event.owner = site.owner;
  event.applied = gate.defined() ? gate.item<double>() > 0.5 : site.keep;
  event.fixed = site.fixed;
  if (x.dim() == 4) {
    event.channels = x.size(1);
    event.height = x.size(2);
    event.width = x.size(3);
  } else {
    event.channels = x.numel() / std::max<int64_t>(x.size(0), 1);
    event.height = event.width = 1;
  }
  if (event.applied) ++active_counting_scope->mutable_counts().relus;
  active_counting_scope->record(std::move(event));
}
}  // namespace

CountingScope::CountingScope() : previous_(active_counting_scope) {
  TORCH_CHECK(previous_ == nullptr, "CountingScope: scopes do not nest");
  active_counting_scope = this;
}

CountingScope::~CountingScope() { active_counting_scope = previous_; }

void CountingScope::record(SiteEvent event) { sites_.push_back(std::move(event)); }
void CountingScope::record(ConvEvent event) { convs_.push_back(std::move(event)); }

namespace {
std::unordered_map<const torch::nn::Module*, std::string> module_paths(const torch::nn::Module& root) {
  std::unordered_map<const torch::nn::Module*, std::string> paths;
  for (const auto& item : root.named_modules("", /*include_self=*/true)) paths.emplace(item.value().get(), item.key());
  return paths;
}

const std::string& path_of(const std::unordered_map<const torch::nn::Module*, std::string>& paths,
                           const torch::nn::Module* module, const torch::nn::Module& root) {
  const auto it = paths.find(module);
  TORCH_CHECK(it != paths.end(), "named_sites: an event belongs to a module outside ", root.name());
  return it->second;
}
}  // namespace

std::vector<SiteEvent> named_sites(const torch::nn::Module& root, const CountingScope& scope) {
  const auto paths = module_paths(root);
  std::vector<SiteEvent> named = scope.sites();
  for (SiteEvent& event : named) {
    const std::string& path = path_of(paths, event.owner, root);
    if (!path.empty()) event.name = path + "." + event.name;
  }
  return named;
}

std::vector<ConvEvent> named_convs(const torch::nn::Module& root, const CountingScope& scope) {
  const auto paths = module_paths(root);
  std::vector<ConvEvent> named = scope.convs();
  for (ConvEvent& event : named) event.name = path_of(paths, event.conv, root);
  return named;
}

namespace detail {

bool is_gated(const Site& site) { return gate_of(site).defined(); }

at::Tensor relu(const at::Tensor& x, const Site& site) {
  if (const at::Tensor gate = gate_of(site); gate.defined()) {
    record_site(x, site, gate);
    return apply_gate(x, gate);
  }
  record_site(x, site);
  return site.keep ? at::relu(x) : x;
}

at::Tensor bn_relu(torch::nn::BatchNorm2dImpl& bn, const at::Tensor& x, const Site& site) {
  if (const at::Tensor gate = gate_of(site); gate.defined()) {
    at::Tensor y = apply_gate(batch_norm_relu(bn, x, false), gate);
    record_site(y, site, gate);
    return y;
  }
  at::Tensor y = batch_norm_relu(bn, x, site.keep);
  record_site(y, site);
  return y;
}

at::Tensor bn(torch::nn::BatchNorm2dImpl& bn, const at::Tensor& x) { return batch_norm_relu(bn, x, false); }

at::Tensor conv(torch::nn::Conv2dImpl& conv, const at::Tensor& x) {
  at::Tensor y = conv.forward(x);
  if (active_counting_scope != nullptr) {
    const auto& options = conv.options;
    const auto kernel = options.kernel_size();
    const int64_t per_output = (options.in_channels() / options.groups()) * kernel->at(0) * kernel->at(1);
    OpCounts& counts = active_counting_scope->mutable_counts();
    ++counts.convs;
    counts.macs += per_output * (y.numel() / std::max<int64_t>(y.size(0), 1));
    active_counting_scope->record(ConvEvent{"", &conv, x.min().item<float>() >= 0});
  }
  return y;
}

at::Tensor linear(torch::nn::LinearImpl& linear, const at::Tensor& x) {
  at::Tensor y = linear.forward(x);
  if (active_counting_scope != nullptr) {
    active_counting_scope->mutable_counts().macs += linear.options.in_features() * linear.options.out_features();
  }
  return y;
}

}  // namespace detail
}  // namespace propnet
