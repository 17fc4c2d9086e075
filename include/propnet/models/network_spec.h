#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <propnet/nn/relu_mask.h>
#include <propnet/nn/switches.h>

namespace propnet::models {

/// How the plain network's cyclic mask is numbered over its stacked convs (spec §2.2, §10.2).
enum class PlainIndexing {
  kGlobal,    ///< Convs after the stem numbered 1, 2, 3, ... across stages; the default.
  kPerStage,  ///< Numbering restarts in every stage (differs from global only at depth 84).
};

/// The spec's named alternatives (§10), each a switch; the defaults are the spec's recommendations.
struct ArchOptions {
  /// Pre-activation basic blocks: option A (zero-pad) or B (1x1 projection) shortcuts (§10.5).
  Shortcut shortcut = Shortcut::kA;
  /// First unit of every pre-activation stage feeds BN-ReLU(x) to both paths (§4.1).
  bool shared_preactivation = true;
  /// Where the first ReLU is removed from such a unit, keep it on the shortcut path (§10.6).
  bool shortcut_keeps_relu = false;
  /// Bottleneck downsampling on the first 1x1 (He's official code) or on the 3x3 (§4.1).
  BottleneckStride bottleneck_stride = BottleneckStride::kFirst1x1;
  /// DFN-MR's last block: ReLU(M + D1 + D2) (fusenet HEAD) or ReLU(2M + D1 + D2) (§10.4).
  FinalMerge final_merge = FinalMerge::kSum;
  /// The plain network's mask numbering (§10.2).
  PlainIndexing plain_indexing = PlainIndexing::kGlobal;
  /// MSRA conv init fan mode (§10.7).
  ConvInit conv_init = ConvInit::kFanIn;
  /// BatchNorm epsilon and momentum (LibTorch convention) of every BN (§1).
  double bn_eps = 2e-5;
  double bn_momentum = 0.1;
};

/// Which ReLU site instances keep their ReLU, as data: a named variant of the block or explicit
/// keep-bits, then globs of sites removed on top. Configs fill it from their keys (network.variant,
/// relu_mask, relu_mask_file, relu_drop); `resolve_network_mask` fits it to a network and refuses a
/// mask that does not fit (an unknown variant, a length of neither kind, a glob that matches no site).
struct NetworkMask {
  /// A named variant of the network's block ("paired", "proportional", "type1", ...); used when
  /// `keep` is unset.
  std::string variant = "paired";
  /// Explicit keep-bits, overriding `variant`: a block pattern over the block's sites (0111),
  /// repeated over every unit (plain: cyclically over its convs), or one bit per site instance in
  /// forward order (`site_names`).
  std::optional<ReluMask> keep;
  /// Globs over site names ("stage3.*.before_conv1"; `*`, `?`, `[...]`) whose ReLUs are removed on
  /// top of the variant or keep-bits. Each must match at least one site.
  std::vector<std::string> drop;

  /// The named variant.
  static NetworkMask named(std::string variant);
  /// Explicit keep-bits: a block pattern or a whole network mask.
  static NetworkMask bits(ReluMask keep);
  /// Explicit keep-bits from text: "0111", or "01.01.11" with '.', '_' or ' ' between units.
  static NetworkMask bits(std::string_view text);
  bool operator==(const NetworkMask& other) const;
  bool operator!=(const NetworkMask& other) const { return !(*this == other); }
};

/// Everything a builder needs; configs and the CLI fill it, `build_network` reads it.
struct NetworkSpec {
  /// Registry key: "plain", "resnet", "preresnet", "preresnet-bottleneck" or "dfn-mr".
  std::string arch;
  /// Plain-equivalent depth, as the paper's tables write it (spec §1.1).
  int64_t depth = 0;
  /// Size of the classifier: 10 for CIFAR-10 and Fashion-MNIST, 100 for CIFAR-100.
  int64_t num_classes = 10;
  /// 3 for CIFAR, 1 for Fashion-MNIST.
  int64_t in_channels = 3;
  /// Which ReLUs are kept; the paired network by default.
  NetworkMask mask;
  /// DFN-MR widen factor k (stage widths 16k/32k/64k); 1 is DFN-MR1. Other networks need 1.
  int64_t widen_factor = 1;
  ArchOptions options;
};

}  // namespace propnet::models
