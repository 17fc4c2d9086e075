#pragma once
// A run folder's policy: one experiment per folder, resumed by rerunning the same command.
#include <filesystem>

#include <propnet/config.h>

namespace propnet::cli {

/// Makes `run_dir` ready for `config` and writes its config.json (schema order, with the
/// environment). With `restart` the folder's seeds and summary are discarded first. Otherwise an
/// existing config.json must describe the same experiment: UsageError naming the first key that
/// differs among those that change results (`first_result_difference`).
void prepare_run_folder(const std::filesystem::path& run_dir, const ExperimentConfig& config, bool restart);

/// The seed of a seed folder's name ("seed-3" -> 3), or -1 for other names ("seed-old").
int64_t seed_of_folder(const std::filesystem::path& dir);

}  // namespace propnet::cli
