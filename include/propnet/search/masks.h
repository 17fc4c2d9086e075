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

/// A budget in ReLU elements per image instead of sites: the kept sites' elements add up to at most
/// `max_elements` (and each stage keeps at least `min_keep_per_stage` sites).
struct ElementBudget {
  int64_t max_elements = 0;
  std::vector<int64_t> elements;  ///< Per site, in the order of the scores and stages it goes with.
  int64_t min_keep_per_stage = 1;
};

/// The sites a search chooses among: those a base mask keeps (every site of the paired network),
/// so that `--variant proportional --keep 6` searches within the proportional network's sites. A
/// mask of the space has one bit per searchable site; `expand` makes it a network mask, in which the
/// sites outside the space stay removed.
struct SearchSpace {
  /// `stages`: every maskable site's stage (`site_stages`); `base`: the network mask (one bit per site).
  SearchSpace(std::vector<int64_t> stages, ReluMask base);
  /// Every site searchable.
  explicit SearchSpace(std::vector<int64_t> stages);

  ReluMask base;
  std::vector<int64_t> sites;   ///< Network-mask indices of the searchable sites, increasing.
  std::vector<int64_t> stages;  ///< Their stages.
  int64_t network_sites = 0;

  int64_t size() const { return static_cast<int64_t>(sites.size()); }
  /// A network mask from a mask of the space.
  ReluMask expand(const ReluMask& searched) const;
  /// The space's bits of a network mask.
  ReluMask restrict(const ReluMask& network_mask) const;
  /// The values of the searchable sites, from one value per network site.
  template <typename T>
  std::vector<T> gather(const std::vector<T>& per_site) const {
    std::vector<T> out;
    for (int64_t i : sites) out.push_back(per_site.at(static_cast<size_t>(i)));
    return out;
  }
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
