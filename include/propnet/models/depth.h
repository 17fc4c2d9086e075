#pragma once
#include <array>
#include <cstdint>
#include <string>

namespace propnet::models {

/// Blocks in each of the three stages.
using StageBlocks = std::array<int64_t, 3>;

/// How a network family turns a plain-equivalent depth into blocks per stage (spec §1.1, §4).
struct DepthRule {
  /// Conv layers per block: 1 plain unit, 2 basic blocks, 3 bottlenecks, 4 merge-and-run blocks.
  int64_t block_depth = 1;
  /// He's rule: every stage has the same count, depth = 3 * block_depth * n + 2. Otherwise
  /// fusenet's floor rule distributes (depth - 2) / block_depth blocks, later stages taking the extra.
  bool equal_stages = false;
  /// The rule as users read it in error messages, e.g. "depth must be 6n+2".
  std::string text;
};

/// Whether `rule` builds a network of exactly `depth` layers with at least one block per stage.
bool is_valid_depth(const DepthRule& rule, int64_t depth);

/// Blocks per stage for `depth`. Throws c10::ValueError naming `network`, the rule and the nearest
/// valid depths: `preresnet-bottleneck: depth must be 9n+2 (got 111); nearest valid depths are 110 and 119`.
StageBlocks blocks_per_stage(const std::string& network, const DepthRule& rule, int64_t depth);

}  // namespace propnet::models
