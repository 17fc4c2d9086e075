#pragma once
// Masks with a budget: which site-level keep-masks a search may return, how many there are, and
// the `random` and `exhaustive` generators (the baselines of a mask comparison).
#include <cstdint>
#include <vector>

#include <propnet/models/network_spec.h>
#include <propnet/nn/relu_mask.h>

namespace propnet::search {

/// What a mask may keep: exactly `keep` of the network's maskable sites, and at least
/// `min_keep_per_stage` in every stage (so that no stage becomes entirely linear).
struct MaskBudget {
  int64_t keep = 0;
  int64_t min_keep_per_stage = 1;
};

/// The stage (1, 2 or 3) of every maskable site of `spec`, in network-mask order (`models::site_names`).
std::vector<int64_t> site_stages(const models::NetworkSpec& spec);

/// `round(fraction * sites)`; throws c10::ValueError unless the fraction is in (0, 1].
int64_t keep_for_fraction(int64_t sites, double fraction);

/// Throws c10::ValueError naming what is impossible: a keep outside [0, sites], or a per-stage
/// minimum the budget or a stage's size cannot meet.
void check_budget(const std::vector<int64_t>& stages, const MaskBudget& budget);

/// Whether `mask` (one bit per site of `stages`) meets `budget`.
bool meets(const ReluMask& mask, const std::vector<int64_t>& stages, const MaskBudget& budget);

/// How many masks meet `budget`, saturating at INT64_MAX.
int64_t count_masks(const std::vector<int64_t>& stages, const MaskBudget& budget);

/// `count` distinct masks drawn uniformly from those that meet `budget`, the same on every platform
/// for one `seed` (propnet's own generator, not LibTorch's or the standard library's distributions).
/// Throws c10::ValueError when fewer than `count` masks exist.
std::vector<ReluMask> random_masks(const std::vector<int64_t>& stages, const MaskBudget& budget, int64_t count,
                                   uint64_t seed);

/// Every mask that meets `budget`, kept sets in lexicographic order ({0, 1, ..., k-1} first, i.e.
/// "1..10..0"). Throws c10::ValueError, with the count, when there are more than `max`.
std::vector<ReluMask> exhaustive_masks(const std::vector<int64_t>& stages, const MaskBudget& budget, int64_t max);

}  // namespace propnet::search
