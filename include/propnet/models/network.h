#pragma once
#include <vector>

#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/pimpl.h>

#include <propnet/models/network_spec.h>

namespace propnet::models {

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

 private:
  NetworkSpec spec_;
  std::vector<torch::nn::AnyModule> parts_;  // stem, stage1..3, head, in forward order
};
TORCH_MODULE(Network);

}  // namespace propnet::models
