#pragma once
// Per-epoch metrics as files (metrics.jsonl, metrics.csv) and as the JSON a checkpoint keeps.
#include <string>
#include <vector>

#include <propnet/train/results.h>

namespace propnet::train::detail {

/// The metrics as a JSON array (one object per epoch, the keys of metrics.jsonl).
std::string metrics_to_json(const std::vector<EpochMetrics>& metrics);
/// Reads `metrics_to_json`'s text; throws c10::Error naming `source` when it is malformed.
std::vector<EpochMetrics> metrics_from_json(const std::string& text, const std::string& source);
/// Rewrites metrics.jsonl and metrics.csv of `files` atomically.
void write_metrics_files(const SeedFiles& files, const std::vector<EpochMetrics>& metrics);

}  // namespace propnet::train::detail
