#include <propnet/nn/site_gates.h>

#include <c10/util/Exception.h>

namespace propnet {
namespace {
thread_local const GateScope* active_gate_scope = nullptr;
}  // namespace

void SiteGates::add(const torch::nn::Module* owner, const std::string& name, int64_t index) {
  TORCH_CHECK_VALUE(index >= 0, "SiteGates: expected a gate index >= 0 (got ", index, ")");
  index_[owner][name] = index;
  size_ = std::max(size_, index + 1);
}

int64_t SiteGates::find(const torch::nn::Module* owner, const std::string& name) const {
  const auto module = index_.find(owner);
  if (module == index_.end()) return -1;
  const auto site = module->second.find(name);
  return site == module->second.end() ? -1 : site->second;
}

GateScope::GateScope(const SiteGates& gates, at::Tensor values)
    : gates_(gates), values_(std::move(values)), previous_(active_gate_scope) {
  TORCH_CHECK(previous_ == nullptr, "GateScope: scopes do not nest");
  TORCH_CHECK_VALUE(values_.defined() && values_.dim() == 1 && values_.size(0) == gates_.size(),
                    "GateScope: expected one gate value per site (", gates_.size(), "), got ",
                    values_.defined() ? values_.sizes() : at::IntArrayRef{});
  active_gate_scope = this;
}

GateScope::~GateScope() { active_gate_scope = previous_; }

const GateScope* GateScope::active() noexcept { return active_gate_scope; }

at::Tensor GateScope::gate(const torch::nn::Module* owner, std::string_view name, int64_t unit) const {
  const std::string local = unit >= 0 ? std::to_string(unit) + "." + std::string(name) : std::string(name);
  const int64_t index = gates_.find(owner, local);
  return index < 0 ? at::Tensor() : values_.select(0, index);
}

}  // namespace propnet
