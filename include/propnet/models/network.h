#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/pimpl.h>

#include <propnet/models/network_spec.h>
#include <propnet/nn/site_gates.h>

namespace propnet::models {

/// One ReLU site instance of a network, as one forward pass meets it.
struct ReluSite {
  std::string name;       ///< Module path plus site: "stage2.3.before_conv2", "stem.relu", "head.relu".
  int64_t stage = 0;      ///< 1..3; 0 for the stem, 4 for the head.
  int64_t unit = -1;      ///< Unit within its stage (plain: conv); -1 for the stem and head.
  int64_t index = -1;     ///< Site within its unit, in the block's mask order; -1 for a fixed site.
  int64_t mask_bit = -1;  ///< Position in the network mask (`site_names`); -1 for a fixed site.
  int64_t channels = 0, height = 0, width = 0;  ///< Of the tensor at the site, per image.
  bool kept = false;      ///< Its ReLU runs.
  bool fixed = false;     ///< No mask bit controls it: the stem's and head's ReLUs, a shortcut's kept ReLU.
  int64_t elements() const noexcept { return channels * height * width; }  ///< ReLU elements per image.
};

/// A network of the registry, rebuilt from its `NetworkSpec`: children `stem`, `stage1`, `stage2`,
/// `stage3`, `head`, so parameters read `stage2.0.conv1.weight`.
///
/// Unlike `torch::nn::Sequential`, whose `clone()` renames children "0", "1", ..., a clone keeps
/// the names (and so loads the same checkpoints). (B, in_channels, 32, 32) -> (B, num_classes).
class NetworkImpl : public torch::nn::Cloneable<NetworkImpl> {
 public:
  /// Validates `spec` (name, depth, variant or mask, classes) and builds the network, initialised
  /// as the paper's protocol says (spec §6). Throws c10::ValueError naming what is wrong.
  explicit NetworkImpl(NetworkSpec spec);

  void reset() override;
  /// Prints `propnet::Network(preresnet, depth=110, relu_mask=[0,1], classes=10)`.
  void pretty_print(std::ostream& stream) const override;
  torch::Tensor forward(torch::Tensor x);

  /// The spec this network was built from.
  const NetworkSpec& spec() const noexcept { return spec_; }

  /// Every ReLU site instance in forward order (units in order, each unit's sites in mask order,
  /// fixed sites where they run), measured by one eval-mode forward pass of a zero batch of one
  /// `input_size` x `input_size` image on the network's device. Leaves parameters, buffers, the
  /// training flag and the random generators as they were.
  std::vector<ReluSite> relu_sites(int64_t input_size = 32);

  /// The gate of every maskable site, indexed as the network mask (`site_names`), for a
  /// `GateScope` over this network (not over a clone: gates know modules by address). Measured as
  /// `relu_sites`, with the same guarantees.
  SiteGates site_gates();

 private:
  NetworkSpec spec_;
  std::vector<torch::nn::AnyModule> parts_;  // stem, stage1..3, head, in forward order
};
TORCH_MODULE(Network);

}  // namespace propnet::models
