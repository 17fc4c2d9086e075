#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <torch/nn/module.h>

#include <propnet/models/depth.h>
#include <propnet/models/network.h>
#include <propnet/models/network_spec.h>

namespace propnet::models {

/// What `propnet info` reports about one network.
struct NetworkSummary {
  std::string arch;
  int64_t depth = 0;
  int64_t num_classes = 0;
  int64_t in_channels = 0;
  std::string variant;            ///< Named variant, or "custom" for an explicit unnamed mask.
  std::string relu_mask;          ///< The block's keep-mask ("01"), or the network mask when no pattern gives it.
  std::string ratio;              ///< Conv:ReLU of the block's module, reduced ("2:1", "3:2"); sites:kept for a network mask.
  StageBlocks blocks_per_stage{};
  int64_t params = 0;             ///< Trainable parameters.
  int64_t macs = 0;               ///< Multiply-accumulates of one forward pass, per image.
  int64_t convs = 0;              ///< Convs applied in one forward pass (shortcut projections too).
  int64_t relus = 0;              ///< ReLUs applied in one forward pass.
  int64_t input_size = 32;        ///< Side of the square input the counts were measured on.
  std::vector<ReluSite> sites;    ///< Every ReLU site instance (`Network::relu_sites`).
  StageBlocks stage_convs{};      ///< Convs on each stage's main path (shortcut projections not counted).
};

/// Number of trainable parameter elements of `module`.
int64_t count_parameters(const torch::nn::Module& module);

/// Builds `spec`'s network and measures it with one forward pass on a (1, C, size, size) input.
NetworkSummary summarize(const NetworkSpec& spec, int64_t input_size = 32);

}  // namespace propnet::models
