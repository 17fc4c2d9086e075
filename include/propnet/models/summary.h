#pragma once
#include <cstdint>
#include <string>

#include <torch/nn/module.h>

#include <propnet/models/depth.h>
#include <propnet/models/network_spec.h>

namespace propnet::models {

/// What `propnet info` reports about one network.
struct NetworkSummary {
  std::string arch;
  int64_t depth = 0;
  int64_t num_classes = 0;
  int64_t in_channels = 0;
  std::string variant;            ///< Named variant, or "custom" for an explicit unnamed mask.
  std::string relu_mask;          ///< The block's keep-mask, e.g. "01".
  std::string ratio;              ///< Conv:ReLU of the block's module, reduced ("2:1", "3:2").
  StageBlocks blocks_per_stage{};
  int64_t params = 0;             ///< Trainable parameters.
  int64_t macs = 0;               ///< Multiply-accumulates of one forward pass, per image.
  int64_t convs = 0;              ///< Convs applied in one forward pass (shortcut projections too).
  int64_t relus = 0;              ///< ReLUs applied in one forward pass.
  int64_t input_size = 32;        ///< Side of the square input the counts were measured on.
};

/// Number of trainable parameter elements of `module`.
int64_t count_parameters(const torch::nn::Module& module);

/// Builds `spec`'s network and measures it with one forward pass on a (1, C, size, size) input.
NetworkSummary summarize(const NetworkSpec& spec, int64_t input_size = 32);

}  // namespace propnet::models
