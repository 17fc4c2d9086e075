#include "search_setup.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <propnet/choices.h>
#include <propnet/models/network_mask.h>

#include "cli.h"
#include "experiment_setup.h"

namespace propnet::cli {

void check_search(const ExperimentConfig& config, const dist::LaunchEnv& launch) {
  const SearchMethod method = config.search.method;
  if (search::needs_training(method) && config.data.val_split == 0) {
    throw UsageError("--method " + to_string(method) + " scores sites on held-out training images: give --val-split N "
                     "(e.g. --val-split 5000); the test set is never read by a search");
  }
  if (launch.distributed() && !search::needs_training(method)) {
    throw UsageError("--method " + to_string(method) + " trains nothing: run it in one process, not data parallel");
  }
}

std::string search_line(const ExperimentConfig& config, const search::SearchPlan& plan,
                        const std::optional<data::Dataset>& data, const Launch& launch,
                        const std::filesystem::path& run_dir) {
  const std::string budget =
      plan.budget.by_elements() ? fmt::format("at most {} ReLU elements per image", config.search.relu_budget)
                                : fmt::format("{} of {} sites", plan.budget.sites.keep, plan.space.size());
  std::string line = fmt::format("search {}: {} on {}-{} {}, keep {}, search seeds {}", run_dir.string(),
                                 to_string(config.search.method), config.network.arch, config.network.depth,
                                 models::describe_mask(config.network).variant, budget,
                                 nlohmann::json(config.search.seeds).dump());
  if (!data) return line;
  return line + fmt::format(", {} ({} train / {} validation images), {} epochs, device {}{}",
                            to_string(config.data.dataset), data->train.size(), data->val.size(), config.train.epochs,
                            launch.device.str(), device_notes(config, launch.device, launch.threads));
}

std::string search_folder_name(const ExperimentConfig& config, const search::SearchPlan& plan) {
  if (!config.name.empty()) return config.name;
  return run_name(config) + "-search-" + to_string(config.search.method) + "-" + plan.budget.label;
}

std::string found_line(const ExperimentConfig& config, const search::SearchResult& found,
                       const std::filesystem::path& mask_file) {
  if (!search::needs_training(found.method)) {
    return fmt::format("search seed {}: {} masks in {}", found.seed, found.masks.size(), mask_file.string());
  }
  const search::MaskSummary s = search::summarize_mask(config.network, found.mask());
  return fmt::format("search seed {}: {} ({} sites, {} ReLU elements per image) in {}", found.seed,
                     found.mask().to_string(), s.kept_sites.size(), s.relu_elements, mask_file.string());
}

}  // namespace propnet::cli
