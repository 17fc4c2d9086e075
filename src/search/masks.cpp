#include <propnet/search/masks.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <string>

#include <c10/util/Exception.h>

#include <propnet/models/network_mask.h>

#include "splitmix.h"

namespace propnet::search {
namespace {

constexpr int64_t kSaturated = std::numeric_limits<int64_t>::max();

int64_t saturating_add(int64_t a, int64_t b) { return a > kSaturated - b ? kSaturated : a + b; }
int64_t saturating_mul(int64_t a, int64_t b) { return a != 0 && b > kSaturated / a ? kSaturated : a * b; }

int64_t choose(int64_t n, int64_t k) {
  if (k < 0 || k > n) return 0;
  k = std::min(k, n - k);
  int64_t c = 1;
  for (int64_t i = 1; i <= k; ++i) {
    // c * (n - k + i) / i stays exact: c is C(n - k + i - 1, i - 1)
    if (c > kSaturated / (n - k + i)) return kSaturated;
    c = c * (n - k + i) / i;
  }
  return c;
}

std::vector<int64_t> stage_sizes(const std::vector<int64_t>& stages) {
  std::vector<int64_t> sizes(3, 0);
  for (int64_t s : stages) ++sizes.at(static_cast<size_t>(s - 1));
  return sizes;
}

ReluMask mask_of(const std::vector<int64_t>& kept, size_t sites) {
  std::vector<bool> keep(sites, false);
  for (int64_t i : kept) keep[static_cast<size_t>(i)] = true;
  return ReluMask(std::move(keep));
}

}  // namespace

SearchSpace::SearchSpace(std::vector<int64_t> stages_, ReluMask base_)
    : base(std::move(base_)), network_sites(static_cast<int64_t>(stages_.size())) {
  TORCH_CHECK_VALUE(base.units() == network_sites, "search space: expected a mask of ", network_sites,
                    " sites (got ", base.units(), ")");
  for (int64_t i = 0; i < network_sites; ++i) {
    if (!base.keeps(i)) continue;
    sites.push_back(i);
    stages.push_back(stages_[static_cast<size_t>(i)]);
  }
}

SearchSpace::SearchSpace(std::vector<int64_t> stages_)
    : SearchSpace(stages_, ReluMask::paired(static_cast<int64_t>(stages_.size()))) {}

ReluMask SearchSpace::expand(const ReluMask& searched) const {
  TORCH_CHECK_VALUE(searched.units() == size(), "search space: expected a mask of its ", size(), " sites (got ",
                    searched.units(), ")");
  std::vector<bool> keep(static_cast<size_t>(network_sites), false);
  for (int64_t j = 0; j < size(); ++j) keep[static_cast<size_t>(sites[static_cast<size_t>(j)])] = searched.keeps(j);
  return ReluMask(std::move(keep));
}

ReluMask SearchSpace::restrict(const ReluMask& network_mask) const {
  TORCH_CHECK_VALUE(network_mask.units() == network_sites, "search space: expected a network mask of ", network_sites,
                    " sites (got ", network_mask.units(), ")");
  std::vector<bool> keep;
  for (int64_t i : sites) keep.push_back(network_mask.keeps(i));
  return ReluMask(std::move(keep));
}

std::vector<int64_t> site_stages(const models::NetworkSpec& spec) {
  std::vector<int64_t> stages;
  for (const std::string& name : models::site_names(spec)) stages.push_back(name.at(5) - '0');  // "stageS."
  return stages;
}

int64_t keep_for_fraction(int64_t sites, double fraction) {
  TORCH_CHECK_VALUE(fraction > 0 && fraction <= 1, "keep fraction: expected a number in (0, 1] (got ", fraction, ")");
  return std::max<int64_t>(1, std::llround(fraction * static_cast<double>(sites)));
}

void check_budget(const std::vector<int64_t>& stages, const MaskBudget& budget) {
  const auto sites = static_cast<int64_t>(stages.size());
  TORCH_CHECK_VALUE(budget.keep >= 0 && budget.keep <= sites, "keep: expected 0 to ", sites, " sites (got ",
                    budget.keep, ")");
  TORCH_CHECK_VALUE(budget.min_keep_per_stage >= 0, "min-keep-per-stage: expected >= 0 (got ",
                    budget.min_keep_per_stage, ")");
  const std::vector<int64_t> sizes = stage_sizes(stages);
  for (size_t s = 0; s < sizes.size(); ++s) {
    TORCH_CHECK_VALUE(sizes[s] >= budget.min_keep_per_stage, "min-keep-per-stage ", budget.min_keep_per_stage,
                      ": stage ", s + 1, " has only ", sizes[s], " sites");
  }
  TORCH_CHECK_VALUE(budget.keep >= 3 * budget.min_keep_per_stage, "keep ", budget.keep, ": expected at least ",
                    3 * budget.min_keep_per_stage, " sites, min-keep-per-stage ", budget.min_keep_per_stage,
                    " in each of the 3 stages");
}

bool meets(const ReluMask& mask, const std::vector<int64_t>& stages, const MaskBudget& budget) {
  if (mask.units() != static_cast<int64_t>(stages.size()) || mask.relus() != budget.keep) return false;
  std::vector<int64_t> kept(3, 0);
  for (size_t i = 0; i < stages.size(); ++i) kept[static_cast<size_t>(stages[i] - 1)] += mask.keeps(static_cast<int64_t>(i));
  return std::all_of(kept.begin(), kept.end(), [&](int64_t k) { return k >= budget.min_keep_per_stage; });
}

int64_t count_masks(const std::vector<int64_t>& stages, const MaskBudget& budget) {
  // ways[k]: masks of the stages so far keeping k sites, each stage keeping at least the minimum
  std::vector<int64_t> ways{1};
  for (int64_t size : stage_sizes(stages)) {
    std::vector<int64_t> next(ways.size() + static_cast<size_t>(size), 0);
    for (size_t k = 0; k < ways.size(); ++k) {
      for (int64_t j = budget.min_keep_per_stage; j <= size; ++j) {
        next[k + static_cast<size_t>(j)] = saturating_add(next[k + static_cast<size_t>(j)], saturating_mul(ways[k], choose(size, j)));
      }
    }
    ways = std::move(next);
  }
  return budget.keep >= 0 && static_cast<size_t>(budget.keep) < ways.size() ? ways[static_cast<size_t>(budget.keep)] : 0;
}

std::vector<ReluMask> random_masks(const std::vector<int64_t>& stages, const MaskBudget& budget, int64_t count,
                                   uint64_t seed) {
  check_budget(stages, budget);
  const int64_t available = count_masks(stages, budget);
  TORCH_CHECK_VALUE(count >= 1 && count <= available, "random: expected 1 to ", available, " masks (got ", count,
                    "): only ", available, " keep ", budget.keep, " of ", stages.size(), " sites with at least ",
                    budget.min_keep_per_stage, " per stage");
  detail::SplitMix64 generator(seed);
  const auto sites = static_cast<int64_t>(stages.size());
  std::vector<ReluMask> masks;
  std::set<std::string> seen;
  while (static_cast<int64_t>(masks.size()) < count) {
    // Floyd's algorithm: a uniform k-subset of the sites; rejection keeps it uniform over the budget's masks.
    std::set<int64_t> kept;
    for (int64_t j = sites - budget.keep; j < sites; ++j) {
      const auto t = static_cast<int64_t>(generator.below(static_cast<uint64_t>(j + 1)));
      kept.insert(kept.count(t) ? j : t);
    }
    const ReluMask mask = mask_of({kept.begin(), kept.end()}, stages.size());
    if (meets(mask, stages, budget) && seen.insert(mask.to_string()).second) masks.push_back(mask);
  }
  return masks;
}

std::vector<ReluMask> exhaustive_masks(const std::vector<int64_t>& stages, const MaskBudget& budget, int64_t max) {
  check_budget(stages, budget);
  const int64_t total = count_masks(stages, budget);
  TORCH_CHECK_VALUE(total <= max, "exhaustive: ",
                    total == kSaturated ? std::string("more than 9.2e18") : std::to_string(total), " masks keep ",
                    budget.keep, " of ", stages.size(), " sites with at least ", budget.min_keep_per_stage,
                    " per stage, more than --max ", max, "; raise --max or use --method random");
  const auto sites = static_cast<int64_t>(stages.size());
  std::vector<ReluMask> masks;
  std::vector<int64_t> kept(static_cast<size_t>(budget.keep));
  for (int64_t i = 0; i < budget.keep; ++i) kept[static_cast<size_t>(i)] = i;
  while (true) {
    const ReluMask mask = mask_of(kept, stages.size());
    if (meets(mask, stages, budget)) masks.push_back(mask);
    // the next k-combination in lexicographic order
    int64_t i = budget.keep - 1;
    while (i >= 0 && kept[static_cast<size_t>(i)] == sites - budget.keep + i) --i;
    if (i < 0) break;
    ++kept[static_cast<size_t>(i)];
    for (int64_t j = i + 1; j < budget.keep; ++j) kept[static_cast<size_t>(j)] = kept[static_cast<size_t>(j - 1)] + 1;
  }
  return masks;
}

}  // namespace propnet::search
