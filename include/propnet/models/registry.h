#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <propnet/models/depth.h>
#include <propnet/models/network.h>
#include <propnet/models/network_mask.h>
#include <propnet/models/network_spec.h>
#include <propnet/nn/relu_mask.h>

namespace propnet::models {

/// A named keep-mask of a network's block, as the paper names it.
struct Variant {
  std::string name;         ///< "paired", "proportional", "type1", ...
  std::string relu_mask;    ///< Over the block's sites, e.g. "011".
  std::string description;  ///< Where the paper uses it.
};

/// What the registry knows about one network family.
struct NetworkInfo {
  std::string name;                   ///< Registry key, e.g. "preresnet-bottleneck".
  std::string block;                  ///< The block class, e.g. "PreActBottleneck".
  std::string summary;                ///< One line citing the paper.
  std::vector<std::string> sites;     ///< The block's ReLU sites, in mask order.
  /// The network's last unit's sites where they differ from `sites` (DFN-MR's merging block); else empty.
  std::vector<std::string> last_unit_sites;
  std::vector<Variant> variants;      ///< Named masks; the first is the paired module.
  DepthRule depth_rule;               ///< Depth -> blocks per stage.
  std::vector<int64_t> paper_depths;  ///< Depths the paper reports (for `propnet info --list`).
  /// True when a mask may have any length and repeats cyclically over the convs (the plain network).
  bool cyclic_mask = false;
};

/// Every network family, in table order.
const std::vector<NetworkInfo>& networks();
/// The names `build_network` accepts, in table order.
std::vector<std::string> network_names();
/// The family named `name`; throws c10::ValueError listing the valid names otherwise.
const NetworkInfo& network_info(std::string_view name);

/// Blocks per stage for `spec.depth`; throws c10::ValueError with the rule and the nearest valid depths.
StageBlocks stage_blocks(const NetworkSpec& spec);

/// An architecture switch (an `ArchOptions` member, or `widen_factor`) that `spec` sets to a non-default
/// value although its family does not use it: it would change the run's identity without changing the network.
struct UnusedSwitch {
  std::string name;           ///< "final_merge", as the config key.
  std::string value;          ///< How a config writes the value: "\"double\"", "false".
  std::string default_value;  ///< "\"sum\"".
  std::string used_by;        ///< The families that use it: "dfn-mr".
};
/// The first such switch of `spec`, or nullopt. `build_network` refuses a spec that has one.
std::optional<UnusedSwitch> unused_switch(const NetworkSpec& spec);

/// Builds and initialises (spec §6) the network `spec` describes: (B, in_channels, 32, 32) -> (B, num_classes).
/// Throws c10::ValueError for an unknown name, a bad depth, variant, mask, class/channel count, or
/// a switch the family does not use (`unused_switch`).
Network build_network(const NetworkSpec& spec);

}  // namespace propnet::models
