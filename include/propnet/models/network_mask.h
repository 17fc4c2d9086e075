#pragma once
// Which ReLU site instances of a registry network keep their ReLU: one bit per site instance, made
// from a block pattern, a network mask, a mask file and selectors (NetworkSpec's mask fields).
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

/// One keep-bit per site of `site_names(spec)`: the variant's or `relu_mask`'s block pattern repeated
/// over every unit (plain: cyclically over its convs, spec §2.2), or a network mask taken as it is;
/// then the `relu_drop` selectors applied. Throws c10::ValueError for a bad variant, a mask of neither
/// length (the message states both), a selector that matches no site, or a `relu_mask_file` not yet
/// read into `relu_mask` (reading files is the config's job: `propnet::read_relu_mask_file`).
ReluMask resolve_network_mask(const NetworkSpec& spec);

/// A network mask as text with '.' between units ("01.01.01"; plain: between stages).
std::string format_network_mask(const NetworkSpec& spec, const ReluMask& mask);

/// `spec` with what its mask file (already read into `relu_mask`) and selectors resolved to recorded
/// in `relu_mask` (as `format_network_mask` writes it), so that config.json names the mask a run
/// used; a spec without either is returned unchanged (the paper's configs keep their variant).
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
