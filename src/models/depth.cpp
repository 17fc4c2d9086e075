#include <propnet/models/depth.h>

#include <c10/util/Exception.h>

namespace propnet::models {
namespace {

constexpr int64_t kMaxDepthSearch = 100000;  // far beyond any trainable network

// fusenet `network/base.py`, `set_blocks`: integer division, later stages take the remainder.
StageBlocks floor_rule(int64_t depth, int64_t b) {
  const int64_t n1 = (depth - 2) / (3 * b);
  const int64_t n2 = (depth - 2 - b * n1) / (2 * b);
  const int64_t n3 = (depth - 2 - b * n1 - b * n2) / b;
  return {n1, n2, n3};
}

}  // namespace

bool is_valid_depth(const DepthRule& rule, int64_t depth) {
  const int64_t b = rule.block_depth;
  if (depth - 2 < 3 * b || (depth - 2) % b != 0) return false;
  return !rule.equal_stages || (depth - 2) % (3 * b) == 0;
}

StageBlocks blocks_per_stage(const std::string& network, const DepthRule& rule, int64_t depth) {
  if (!is_valid_depth(rule, depth)) {
    int64_t below = depth - 1;
    while (below > 0 && !is_valid_depth(rule, below)) --below;
    int64_t above = std::max<int64_t>(depth + 1, 1);
    while (above < kMaxDepthSearch && !is_valid_depth(rule, above)) ++above;
    const std::string nearest = below > 0 ? "nearest valid depths are " + std::to_string(below) + " and " +
                                                std::to_string(above)
                                          : "the smallest valid depth is " + std::to_string(above);
    TORCH_CHECK_VALUE(false, network, ": ", rule.text, " (got ", depth, "); ", nearest);
  }
  return floor_rule(depth, rule.block_depth);
}

}  // namespace propnet::models
