// What a search knows before it reads data: the site table, the budget in the methods' units, the data
// it will read (include/propnet/search/run.h).
#include <propnet/search/run.h>

#include <cstdio>

#include <c10/util/Exception.h>

#include <propnet/models/network.h>
#include <propnet/models/network_mask.h>

namespace propnet::search {
namespace {

std::string fraction_label(double fraction) {
  char text[32];
  std::snprintf(text, sizeof text, "f%g", fraction);
  return text;
}

// An element budget: the budget counts every ReLU, as info --sites does; the methods count the maskable sites'.
SearchBudget element_budget(const SearchSpec& s, const SearchSpace& space, const SiteTable& table) {
  TORCH_CHECK_VALUE(s.relu_budget > table.fixed_elements, "--relu-budget ", s.relu_budget,
                    ": the stem's and head's ReLUs alone take ", table.fixed_elements, " elements per image; give more");
  SearchBudget b;
  b.elements.min_keep_per_stage = s.min_keep_per_stage;
  b.sites.min_keep_per_stage = s.min_keep_per_stage;
  b.elements.max_elements = s.relu_budget - table.fixed_elements;
  for (const SiteInfo& site : table.sites) b.elements.elements.push_back(site.elements);
  b.label = "e" + std::to_string(s.relu_budget);
  ElementBudget minimum = b.elements;  // what the stage minimum costs, checked before any training
  minimum.elements = space.gather(b.elements.elements);
  select_mask_within(std::vector<double>(space.sites.size(), 0.0), space.stages, minimum);
  return b;
}

SearchBudget site_budget(const SearchSpec& s, const SearchSpace& space) {
  SearchBudget b;
  b.sites.min_keep_per_stage = s.min_keep_per_stage;
  b.elements.min_keep_per_stage = s.min_keep_per_stage;
  b.sites.keep = s.keep > 0 ? s.keep : keep_for_fraction(space.size(), s.keep_fraction);
  b.label = s.keep > 0 ? "k" + std::to_string(s.keep) : fraction_label(s.keep_fraction);
  TORCH_CHECK_VALUE(b.sites.keep <= space.size(), "--keep ", b.sites.keep, ": the search space has only ",
                    space.size(), " sites (those the network's variant or mask keeps)");
  check_budget(space.stages, b.sites);
  return b;
}

}  // namespace

SiteTable site_table(const models::NetworkSpec& network) {
  SiteTable table;
  for (const models::ReluSite& site : models::Network(network)->relu_sites()) {  // elements are measured kept or not
    table.paired_elements += site.elements();
    if (site.fixed) {
      table.fixed_elements += site.elements();
    } else {
      table.sites.push_back({site.name, site.stage, site.mask_bit, site.elements()});
    }
  }
  return table;
}

models::NetworkSpec with_mask(models::NetworkSpec network, const ReluMask& mask) {
  network.mask = models::NetworkMask::bits(mask);
  return network;
}

MaskSummary summarize_mask(const models::NetworkSpec& network, const ReluMask& mask) {
  MaskSummary summary{mask, {}, 0};
  for (const models::ReluSite& site : models::Network(with_mask(network, mask))->relu_sites()) {
    if (site.kept) summary.relu_elements += site.elements();
    if (site.kept && !site.fixed) summary.kept_sites.push_back(site.name);
  }
  return summary;
}

SearchPlan plan_search(const ExperimentConfig& config) {
  const SearchSpec& s = config.search;
  TORCH_CHECK_VALUE(s.keep > 0 || s.keep_fraction > 0 || s.relu_budget > 0,
                    "give a budget: --keep K (sites), --keep-fraction F or --relu-budget E (ReLU elements per image; "
                    "propnet info --sites counts them)");
  SearchSpace space(site_stages(config.network), models::resolve_network_mask(config.network));
  SiteTable sites = site_table(config.network);
  SearchBudget budget = s.relu_budget > 0 ? element_budget(s, space, sites) : site_budget(s, space);
  if (s.method == SearchMethod::kRandom) {  // a budget that yields no masks fails here, before any folder is made
    random_masks(space.stages, budget.sites, s.count, 0);
  } else if (s.method == SearchMethod::kExhaustive) {
    exhaustive_masks(space.stages, budget.sites, s.max);
  }
  return {std::move(space), std::move(sites), std::move(budget)};
}

bool needs_training(SearchMethod m) { return m == SearchMethod::kGates || m == SearchMethod::kGreedy; }

data::Dataset search_data(const ExperimentConfig& config, const data::Dataset& loaded) {
  data::Dataset d = loaded;
  d.train = loaded.train.head(config.data.subset);
  d.test = {};
  return data::hold_out_validation(std::move(d), config.data.val_split);
}

}  // namespace propnet::search
