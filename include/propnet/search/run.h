#pragma once
// One ReLU-site search of a registry network, from its config to a typed result: the budget in the
// methods' units, then the gates or greedy training (through the Trainer: progress, checkpoints,
// stop requests and resume are train's) or the random / exhaustive masks. `propnet search` is this
// plus a run folder and JSON; a LibTorch project runs it on its own data:
// ```
// ExperimentConfig config;                       // network, train and search sections
// config.network = {...};  config.search.keep = 9;  config.train.epochs = 6;
// const search::SearchPlan plan = search::plan_search(config);              // checks the budget
// const search::SearchResult found = search::run(config, plan, data, {});   // data: train + val splits
// config.network = search::with_mask(config.network, found.mask());          // retrain it with train_seed
// ```
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <c10/core/Device.h>

#include <propnet/config.h>
#include <propnet/data/dataset.h>
#include <propnet/dist/group.h>
#include <propnet/models/network_spec.h>
#include <propnet/nn/relu_mask.h>
#include <propnet/search/gate_search.h>
#include <propnet/search/greedy.h>
#include <propnet/search/masks.h>
#include <propnet/train/results.h>
#include <propnet/train/trainer.h>

namespace propnet::search {

/// One maskable ReLU site as a search sees it.
struct SiteInfo {
  std::string name;      ///< "stage2.3.before_conv2"
  int64_t stage = 0;     ///< 1..3
  int64_t mask_bit = 0;  ///< Its bit in the network mask.
  int64_t elements = 0;  ///< ReLU elements per image, measured whether or not the site keeps its ReLU.
};
/// Every maskable site of a network in mask order, and the fixed sites' elements (stem, head): what a
/// budget in ReLU elements counts, as `propnet info --sites` does.
struct SiteTable {
  std::vector<SiteInfo> sites;
  int64_t fixed_elements = 0;   ///< The stem's and head's ReLUs, which no mask removes.
  int64_t paired_elements = 0;  ///< Every ReLU of the paired network.
};
SiteTable site_table(const models::NetworkSpec& network);

/// A network mask as the site table sees it.
struct MaskSummary {
  ReluMask mask;
  std::vector<std::string> kept_sites;  ///< Names of the maskable sites it keeps.
  int64_t relu_elements = 0;            ///< Per image, the stem's and head's included.
};
MaskSummary summarize_mask(const models::NetworkSpec& network, const ReluMask& mask);

/// `network` with `mask` (a network mask) as its explicit mask: what retrains a found mask.
models::NetworkSpec with_mask(models::NetworkSpec network, const ReluMask& mask);

/// The budget in the units the methods take, from the one of search.keep / keep_fraction / relu_budget given.
struct SearchBudget {
  MaskBudget sites;
  ElementBudget elements;  ///< max_elements > 0: a budget in ReLU elements (per network site, fixed ones excluded).
  std::string label;       ///< "k9", "f0.5", "e90112": the run folder's suffix.
  bool by_elements() const { return elements.max_elements > 0; }
};

/// What a search is about to do, checked before any data is read: the sites it chooses among, their
/// ReLU elements and the budget.
struct SearchPlan {
  SearchSpace space;
  SiteTable sites;
  SearchBudget budget;
};
/// Checks `config`'s budget against its network (and, for random and exhaustive, that masks of the
/// budget exist). Throws c10::ValueError naming the key or flag and what is impossible.
SearchPlan plan_search(const ExperimentConfig& config);

/// Whether the method trains (gates, greedy) and so needs data and a validation split.
bool needs_training(SearchMethod method);

/// The images a search trains on and scores with: the training split after `data.subset`, its last
/// `data.val_split` images held out as validation, and no test split (a search never reads it).
data::Dataset search_data(const ExperimentConfig& config, const data::Dataset& loaded);

/// Where and how one search seed runs.
struct SearchRunOptions {
  int64_t seed = 0;  ///< Initial weights, batch order, score noise, random masks.
  /// The training device (gates, greedy); unset: config.train.device.
  std::optional<c10::Device> device;
  /// The seed's folder for the training's checkpoint (resumed when present); empty: none.
  std::filesystem::path dir;
  std::shared_ptr<dist::Group> group;  ///< Data parallel (gates, greedy), as `Trainer`.
  /// Progress, epochs, stop requests and messages ("mask 0101...  (6 kept, 2 changed this epoch)").
  train::TrainerHooks hooks;
};

/// A search seed's outcome. Masks are network masks (one bit per maskable site).
struct SearchResult {
  SearchMethod method = SearchMethod::kGates;
  int64_t seed = 0;
  train::SeedStatus status = train::SeedStatus::kDone;  ///< kStopped / kFailed: its training did not finish.
  std::string message;                                  ///< Why it stopped or failed.
  std::vector<ReluMask> masks;  ///< gates, greedy: the found mask; random, exhaustive: every mask drawn.
  int64_t masks_with_budget = 0;  ///< random, exhaustive: how many masks meet the budget.
  /// Per network site: gates, an EMA of -dL/dg (the first-order benefit of its ReLU); greedy, how
  /// much removing it alone raised the validation loss (the first round).
  std::vector<double> scores;
  std::vector<train::EpochMetrics> metrics;  ///< The training's epochs (gates, greedy).
  std::vector<EpochMask> trajectory;         ///< gates: the mask at every epoch's end.
  GreedyResult greedy;                       ///< greedy: the removal rounds.
  int64_t score_steps = 0, val_images_scored = 0;  ///< gates
  int64_t warmup_epochs = 0, freeze_epochs = 0;    ///< gates
  int64_t train_images = 0, val_images = 0;
  double greedy_seconds = 0;
  double wall_seconds = 0;  ///< Training epochs plus the greedy removal.

  bool finished() const { return status == train::SeedStatus::kDone; }
  /// The found mask (gates, greedy), or the first drawn one.
  const ReluMask& mask() const { return masks.at(0); }
  double final_val_loss() const;
};

/// Runs one search seed of `config` (its network, search and train sections) on `data` (training
/// and validation splits; `search_data`); random and exhaustive read no data. Throws c10::ValueError
/// for a bad config; a stopped or failed training comes back as the result's status.
SearchResult run(const ExperimentConfig& config, const SearchPlan& plan, const data::Dataset& data,
                 const SearchRunOptions& options);

}  // namespace propnet::search
