#pragma once
// Which ReLU site instances of a registry network keep their ReLU: one bit per site instance, made
// from a NetworkMask (a variant or keep-bits, then selectors) fitted to the network.
#include <string>
#include <vector>

#include <propnet/models/network_spec.h>
#include <propnet/nn/relu_mask.h>

namespace propnet::models {

/// The maskable ReLU site instances of `spec`'s network, in network-mask order: stage 1 unit 0
/// first, each unit's sites in its block's mask order: "stage1.0.before_conv1", "stage1.0.before_conv2",
/// ... (plain: "stage1.0.after_conv", one per conv after the stem). The stem's and head's ReLUs
/// are not maskable and not listed (`Network::relu_sites` lists them).
std::vector<std::string> site_names(const NetworkSpec& spec);

/// One keep-bit per site of `site_names(spec)`: `spec.mask`'s variant or block pattern repeated over
/// every unit (plain: cyclically over its convs, spec §2.2), or its network mask taken as it is; then
/// its `drop` selectors applied. Throws c10::ValueError for an unknown variant, keep-bits of neither
/// length (the message states both) or a selector that matches no site.
ReluMask resolve_network_mask(const NetworkSpec& spec);

/// `spec.mask` as configs write it, relu_drop aside: the variant's name, or the keep-bits (a whole
/// network mask with '.' between units, as `format_network_mask`; a block pattern as it is).
std::string mask_text(const NetworkSpec& spec);

/// A network mask as text with '.' between units ("01.01.01"; plain: between stages).
std::string format_network_mask(const NetworkSpec& spec, const ReluMask& mask);

/// `spec` with what its selectors resolved to recorded as keep-bits (one per site), so that
/// config.json names the mask a run used; a spec without selectors is returned unchanged (the
/// paper's configs keep their variant).
NetworkSpec with_resolved_mask(NetworkSpec spec);

/// How `spec`'s mask reads in summaries: the named variant whose mask it is (or "custom"), and
/// the shortest text that gives it (the block pattern, else the network mask).
struct MaskDescription {
  std::string variant;
  std::string relu_mask;
  std::string ratio;  ///< Conv:ReLU of the block pattern ("2:1"), or sites : kept sites of a network mask.
};
MaskDescription describe_mask(const NetworkSpec& spec);

}  // namespace propnet::models
