// Network::relu_sites: the sites one forward pass meets, ordered and numbered as the network mask.
#include <propnet/models/network.h>

#include <map>

#include <ATen/ops/zeros.h>
#include <c10/util/Exception.h>
#include <torch/utils.h>

#include <propnet/models/network_mask.h>
#include <propnet/nn/op_counter.h>

namespace propnet::models {
namespace {

// "stage2.3.before_conv2" -> stage 2, unit 3; "stem.relu" -> 0; "head.relu" -> 4.
void place(ReluSite& site) {
  if (site.name.rfind("stem.", 0) == 0) {
    site.stage = 0;
  } else if (site.name.rfind("head.", 0) == 0) {
    site.stage = 4;
  } else {
    TORCH_INTERNAL_ASSERT(site.name.rfind("stage", 0) == 0, "relu_sites: unexpected site ", site.name);
    const size_t dot = site.name.find('.'), next = site.name.find('.', dot + 1);
    site.stage = std::stoll(site.name.substr(5, dot - 5));
    site.unit = std::stoll(site.name.substr(dot + 1, next - dot - 1));
  }
}

std::string unit_of(const std::string& name) { return name.substr(0, name.rfind('.')); }

// The sites of one eval-mode forward pass of a zero image: as recorded (local names) and named.
struct Measured {
  std::vector<SiteEvent> local, named;
};

Measured measure(NetworkImpl& net, int64_t input_size) {
  TORCH_CHECK_VALUE(input_size >= 8, "relu_sites: expected an input size >= 8 (got ", input_size, ")");
  const bool was_training = net.is_training();
  net.eval();
  Measured m;
  {
    torch::NoGradGuard no_grad;
    CountingScope scope;
    const auto options = net.parameters().front().options();
    net.forward(at::zeros({1, net.spec().in_channels, input_size, input_size}, options));
    m.local = scope.sites();
    m.named = named_sites(net, scope);
  }
  net.train(was_training);
  return m;
}

}  // namespace

SiteGates NetworkImpl::site_gates() {
  const Measured m = measure(*this, 32);
  const std::vector<std::string> names = site_names(spec_);
  std::map<std::string, int64_t> bit_of;
  for (size_t i = 0; i < names.size(); ++i) bit_of[names[i]] = static_cast<int64_t>(i);
  SiteGates gates;
  for (size_t i = 0; i < m.named.size(); ++i) {
    if (m.named[i].fixed) continue;
    const auto it = bit_of.find(m.named[i].name);
    TORCH_INTERNAL_ASSERT(it != bit_of.end(), "site_gates: ", m.named[i].name, " is not in the network mask");
    gates.add(m.local[i].owner, m.local[i].name, it->second);
  }
  TORCH_INTERNAL_ASSERT(gates.size() == static_cast<int64_t>(names.size()), "site_gates: the forward pass met ",
                        gates.size(), " of ", names.size(), " sites");
  return gates;
}

std::vector<ReluSite> NetworkImpl::relu_sites(int64_t input_size) {
  const std::vector<SiteEvent> events = measure(*this, input_size).named;

  // Maskable sites by name; fixed ones before the first unit (stem), after their unit, or last (head).
  std::map<std::string, const SiteEvent*> maskable;
  std::map<std::string, std::vector<const SiteEvent*>> fixed_after_unit;
  std::vector<const SiteEvent*> leading, trailing;
  bool seen_unit = false;
  for (const SiteEvent& e : events) {
    if (!e.fixed) {
      maskable.emplace(e.name, &e);
      seen_unit = true;
    } else if (e.name.rfind("stage", 0) == 0) {
      fixed_after_unit[unit_of(e.name)].push_back(&e);
    } else {
      (seen_unit ? trailing : leading).push_back(&e);
    }
  }
  std::vector<ReluSite> sites;
  const auto add = [&](const SiteEvent& e, int64_t index, int64_t bit) {
    ReluSite s;
    s.name = e.name;
    place(s);
    s.index = index;
    s.mask_bit = bit;
    s.channels = e.channels;
    s.height = e.height;
    s.width = e.width;
    s.kept = e.applied;
    s.fixed = e.fixed;
    sites.push_back(std::move(s));
  };
  for (const SiteEvent* e : leading) add(*e, -1, -1);
  const std::vector<std::string> names = site_names(spec_);
  TORCH_INTERNAL_ASSERT(names.size() == maskable.size(), "relu_sites: the forward pass met ", maskable.size(),
                        " maskable sites, the network mask has ", names.size());
  int64_t index = 0;
  for (size_t bit = 0; bit < names.size(); ++bit) {
    const auto it = maskable.find(names[bit]);
    TORCH_INTERNAL_ASSERT(it != maskable.end(), "relu_sites: the forward pass did not meet ", names[bit]);
    const std::string unit = unit_of(names[bit]);
    index = bit > 0 && unit == unit_of(names[bit - 1]) ? index + 1 : 0;
    add(*it->second, index, static_cast<int64_t>(bit));
    const bool unit_ends = bit + 1 == names.size() || unit_of(names[bit + 1]) != unit;
    if (unit_ends) {
      for (const SiteEvent* e : fixed_after_unit[unit]) add(*e, -1, -1);
    }
  }
  for (const SiteEvent* e : trailing) add(*e, -1, -1);
  return sites;
}

}  // namespace propnet::models
