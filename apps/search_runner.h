#pragma once
// One `propnet search` seed after another: the budget in the methods' units, and per seed the
// gates or greedy training (through the Trainer) or the random/exhaustive masks, as search.json.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include <propnet/config.h>
#include <propnet/data/dataset.h>
#include <propnet/dist/group.h>
#include <propnet/search/masks.h>
#include <propnet/train/results.h>

#include "progress.h"

namespace propnet::cli {

// The budget in the units the methods take, from the one of search.keep / keep_fraction / relu_budget given.
struct Budget {
  search::MaskBudget sites;
  search::ElementBudget elements;  // max_elements > 0: an element budget
  std::string label;               // run folder suffix: "k9", "f0.5", "e90112"
};

/// Whether the method trains (gates, greedy) and so needs data and a validation split.
bool needs_training(SearchMethod method);

/// Training images after subset and validation hold-out, with no test split: no search reads it.
data::Dataset search_data(const ExperimentConfig& config, const data::Dataset& loaded);

/// "<run name>-search-<method>-<budget>", or the config's name.
std::string search_folder_name(const ExperimentConfig& config, const Budget& budget);

class SearchRunner {
 public:
  /// Checks the budget against the search space (UsageError / c10::ValueError); reads no data.
  SearchRunner(const ExperimentConfig& config, c10::Device device, ProgressReporter& reporter);
  ~SearchRunner();

  const Budget& budget() const;
  const search::SearchSpace& space() const;
  /// Throws what a seed's run would throw for a budget that yields no masks, before any folder is made.
  void check_masks() const;
  void set_run_dir(std::filesystem::path run_dir);
  /// The search's data (`search_data`), for the methods that train; outlives the runner.
  void set_data(const data::Dataset* data);
  /// Data parallel: the ranks' group (null for one process).
  void set_group(std::shared_ptr<dist::Group> group);

  /// Seed `seed`'s search.json, or nullopt when its training stopped (checkpoint written) or failed;
  /// `status` and `message` say which.
  std::optional<nlohmann::json> run(int64_t seed, train::SeedStatus& status, std::string& message);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace propnet::cli
