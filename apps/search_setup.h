#pragma once
// What `propnet search` checks and says around the library's `search::run`.
#include <filesystem>
#include <optional>
#include <string>

#include <propnet/config.h>
#include <propnet/data/dataset.h>
#include <propnet/dist/launch.h>
#include <propnet/search/run.h>

#include "seed_session.h"

namespace propnet::cli {

/// UsageError for what a search cannot run: a training method without validation images, or a
/// data-parallel launch of a method that trains nothing.
void check_search(const ExperimentConfig& config, const dist::LaunchEnv& launch);

/// "<run name>-search-<method>-<budget label>", or the config's name.
std::string search_folder_name(const ExperimentConfig& config, const search::SearchPlan& plan);

/// "search runs/x: gates on preresnet-20 paired, keep 9 of 18 sites, search seeds [0], <data and device>"
std::string search_line(const ExperimentConfig& config, const search::SearchPlan& plan,
                        const std::optional<data::Dataset>& data, const Launch& launch,
                        const std::filesystem::path& run_dir);

/// "search seed 0: 0101... (9 sites, 90112 ReLU elements per image) in <mask_file>", or "... 8 masks in <mask_file>".
std::string found_line(const ExperimentConfig& config, const search::SearchResult& found,
                       const std::filesystem::path& mask_file);

}  // namespace propnet::cli
