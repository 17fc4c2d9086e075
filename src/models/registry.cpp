#include <propnet/models/registry.h>

#include <functional>

#include <c10/util/Exception.h>
#include <c10/util/StringUtil.h>

#include <propnet/choices.h>

#include <propnet/nn/basic_block.h>
#include "../nn/layers.h"
#include <propnet/nn/merge_and_run.h>
#include <propnet/nn/preact_block.h>
#include <propnet/nn/preact_bottleneck.h>

#include "builders.h"

namespace propnet::models {
namespace {

using Builder = torch::nn::Sequential (*)(const NetworkSpec&, const ReluMask&, const StageBlocks&);

struct Entry {
  NetworkInfo info;
  Builder build;
};

// The one table of networks. Depth rules: spec §1.1 (fusenet's floor rule) and §4.1 (He's 6n+2, 9n+2).
const std::vector<Entry>& table() {
  static const std::vector<Entry> entries{
      {{"plain", "Proportional", "plain conv-BN-ReLU CNN (He et al.'s CIFAR plain net); paper Table I",
        {"after_conv"},
        {},
        {{"paired", "1", "paired module, conv:ReLU 1:1"},
         {"proportional", "01", "2:1 proportional module: odd convs lose their ReLU (Table I)"}},
        {1, false, "depth = 2 + convs, split over 3 stages by fusenet's floor rule, needs depth >= 5"},
        {38, 62, 84},
        /*cyclic_mask=*/true},
       &detail::build_plain},
      {{"resnet", "BasicBlock", "post-activation ResNet building block; paper Fig. 3, spec §5",
        BasicBlockImpl::relu_sites(),
        {},
        {{"paired", "11", "building block, 1:1"},
         {"proportional", "01", "2:1, the first ReLU removed (Fig. 3)"},
         {"remove-last", "10", "2:1, the ReLU after the addition removed (Fig. 3)"}},
        {2, false, "depth must be 2k+2 with k >= 3 basic blocks (fusenet's floor rule)"},
        {20, 56, 110}},
       &detail::build_resnet},
      {{"preresnet", "PreActBlock", "pre-activation ResNet building block; paper Fig. 4, Table II, Fig. 6",
        PreActBlockImpl::relu_sites(),
        {},
        {{"paired", "11", "1:1 pre-paired module"},
         {"proportional", "01", "2:1 pre-proportional module: the first ReLU removed (Table II)"}},
        {2, true, "depth must be 6n+2"},
        {62, 110, 164}},
       &detail::build_preresnet},
      {{"preresnet-bottleneck", "PreActBottleneck", "pre-activation bottleneck ResNet; paper Figs. 7-8",
        PreActBottleneckImpl::relu_sites(),
        {},
        {{"paired", "111", "bottleneck pre-paired module (baseline)"},
         {"type1", "011", "3:2, the first ReLU removed"},
         {"type2", "101", "3:2, the second ReLU removed"},
         {"type3", "110", "3:2, the third ReLU removed"}},
        {3, true, "depth must be 9n+2"},
        {110, 164}},
       &detail::build_preresnet_bottleneck},
      {{"dfn-mr", "MergeAndRun", "deep fusion network with merge-and-run blocks (DFN-MR); Fig. 5, Table III",
        MergeAndRunImpl::relu_sites(),
        MergeAndRunImpl::merged_relu_sites(),
        {{"paired", "1111", "paired module (DFN-MR1 of [9])"},
         {"type1", "1011", "4:3, branch 1 loses its ReLU after the addition (Table III)"},
         {"type2", "0111", "4:3, branch 1 loses its ReLU before the addition (Table III)"}},
        {4, false, "depth must be 4k+2 with k >= 3 merge-and-run blocks (plain-equivalent depth, fusenet's floor rule)"},
        {110}},
       &detail::build_dfn_mr},
  };
  return entries;
}

const Entry& entry(std::string_view name) {
  for (const Entry& e : table()) {
    if (e.info.name == name) return e;
  }
  TORCH_CHECK_VALUE(false, "unknown network \"", std::string(name), "\"; expected one of: ",
                    c10::Join(", ", network_names()));
}

// The architecture switches (and the widen factor) and the families whose builders read them;
// conv_init, bn_eps and bn_momentum apply to every family.
struct Switch {
  const char* name;
  const char* used_by;  // families, ", "-separated
  std::function<std::string(const NetworkSpec&)> spelled;  // the value as a config writes it
};

template <typename E>
std::function<std::string(const NetworkSpec&)> spelled_choice(E ArchOptions::*member) {
  return [member](const NetworkSpec& n) { return "\"" + to_string(n.options.*member) + "\""; };
}

std::function<std::string(const NetworkSpec&)> spelled_bool(bool ArchOptions::*member) {
  return [member](const NetworkSpec& n) { return std::string(n.options.*member ? "true" : "false"); };
}

const std::vector<Switch>& switches() {
  static const std::vector<Switch> table{
      {"shortcut", "preresnet", spelled_choice(&ArchOptions::shortcut)},
      {"shared_preactivation", "preresnet, preresnet-bottleneck", spelled_bool(&ArchOptions::shared_preactivation)},
      {"shortcut_keeps_relu", "preresnet, preresnet-bottleneck", spelled_bool(&ArchOptions::shortcut_keeps_relu)},
      {"bottleneck_stride", "preresnet-bottleneck", spelled_choice(&ArchOptions::bottleneck_stride)},
      {"final_merge", "dfn-mr", spelled_choice(&ArchOptions::final_merge)},
      {"plain_indexing", "plain", spelled_choice(&ArchOptions::plain_indexing)},
      {"widen_factor", "dfn-mr", [](const NetworkSpec& n) { return std::to_string(n.widen_factor); }},
  };
  return table;
}

bool uses(const char* used_by, const std::string& family) {
  std::string list = used_by;
  size_t begin = 0;
  while (begin <= list.size()) {
    const size_t end = std::min(list.find(", ", begin), list.size());
    if (list.substr(begin, end - begin) == family) return true;
    begin = end + 2;
  }
  return false;
}

}  // namespace

const std::vector<NetworkInfo>& networks() {
  static const std::vector<NetworkInfo> infos = [] {
    std::vector<NetworkInfo> result;
    for (const Entry& e : table()) result.push_back(e.info);
    return result;
  }();
  return infos;
}

std::vector<std::string> network_names() {
  std::vector<std::string> names;
  for (const Entry& e : table()) names.push_back(e.info.name);
  return names;
}

const NetworkInfo& network_info(std::string_view name) { return entry(name).info; }

StageBlocks stage_blocks(const NetworkSpec& spec) {
  const NetworkInfo& info = network_info(spec.arch);
  return blocks_per_stage(info.name, info.depth_rule, spec.depth);
}

std::optional<UnusedSwitch> unused_switch(const NetworkSpec& spec) {
  const NetworkSpec defaults;
  for (const Switch& s : switches()) {
    const std::string value = s.spelled(spec);
    const std::string default_value = s.spelled(defaults);
    if (value != default_value && !uses(s.used_by, spec.arch)) return UnusedSwitch{s.name, value, default_value, s.used_by};
  }
  return std::nullopt;
}

Network build_network(const NetworkSpec& spec) { return Network(spec); }

torch::nn::Sequential detail::build_layers(const NetworkSpec& spec) {
  const Entry& e = entry(spec.arch);
  TORCH_CHECK_VALUE(spec.num_classes >= 2, spec.arch, ": expected at least 2 classes (got ", spec.num_classes, ")");
  TORCH_CHECK_VALUE(spec.in_channels >= 1, spec.arch, ": expected at least 1 input channel (got ",
                    spec.in_channels, ")");
  TORCH_CHECK_VALUE(spec.widen_factor >= 1, spec.arch, ": expected widen_factor >= 1 (got ", spec.widen_factor, ")");
  if (const auto unused = unused_switch(spec)) {
    TORCH_CHECK_VALUE(false, spec.arch, ": expected ", unused->name, " ", unused->default_value, " (got ", unused->value,
                      "); it applies to ", unused->used_by, " only");
  }
  const StageBlocks blocks = stage_blocks(spec);
  const ReluMask mask = resolve_network_mask(spec);
  return e.build(spec, mask, blocks);
}

}  // namespace propnet::models
