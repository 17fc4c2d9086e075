#pragma once
// summary.json of a run folder: every seed found there, its status and final test accuracy,
// and mean / sample std / population std / median / best over the finished seeds.
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include <propnet/config.h>

namespace propnet::cli {

/// Marker that a seed failed (its content is the reason); written next to its checkpoint.
inline constexpr const char* kFailedMarker = "FAILED";

/// Scans `run_dir/seed-*` and returns the summary object (also what summary.json holds).
nlohmann::json summarize_run(const std::filesystem::path& run_dir, const ExperimentConfig& config);
/// Writes summary.json atomically and returns the one-line result, e.g.
/// "93.05 ± 0.12 (n=5, sample std); median (mean ± std_pop, best): 93.10 (93.05 ± 0.11, 93.20)".
std::string write_run_summary(const std::filesystem::path& run_dir, const ExperimentConfig& config);

}  // namespace propnet::cli
