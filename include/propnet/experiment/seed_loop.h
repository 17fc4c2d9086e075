#pragma once
// The loop over an experiment's seeds, shared by training and search: done seeds are skipped, a failed
// seed is marked and the loop goes on, a stopped seed ends the loop (its checkpoint resumes it).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <propnet/dist/group.h>
#include <propnet/experiment/run_folder.h>
#include <propnet/train/results.h>

namespace propnet::experiment {

/// How one seed's run ended (`train::SeedResult` carries the same two).
struct SeedOutcome {
  train::SeedStatus status = train::SeedStatus::kDone;
  std::string message;  ///< Why it stopped or failed.
};

/// Callbacks of the loop; any may be empty. `what` names a seed in messages ("seed 3", "search seed 3").
struct SeedLoopHooks {
  std::function<void(int64_t seed)> on_begin;  ///< After the seed's folder is ready, before it runs.
  std::function<void(int64_t seed)> on_end;    ///< After it ran (whatever the outcome) and its files say so.
  std::function<void(const std::string&)> on_message;
  std::function<void(const std::string&)> on_warning;
};

struct SeedLoopOptions {
  std::string what = "seed";  ///< How messages name a seed: "seed", "search seed".
  /// Data parallel: every rank runs the loop; only rank 0 writes to the folder, and the ranks meet
  /// after every seed so that all see its files before the next seed's check.
  dist::Group* group = nullptr;
  SeedLoopHooks hooks;
};

/// How the loop ended.
struct SeedLoopResult {
  bool any_failed = false;
  std::optional<int64_t> stopped_seed;  ///< The seed whose run stopped (the loop ended there).
  std::string stop_message;             ///< Its `SeedOutcome::message`.
};

/// Runs `run_one(seed)` for every seed of `seeds` that `folder` does not hold as done, in order. Before
/// a seed runs its folder exists and its FAILED marker is gone; a failed seed gets the marker (with the
/// reason) and a warning, and the loop goes on; a stopped one ends the loop.
SeedLoopResult run_seeds(const RunFolder& folder, const std::vector<int64_t>& seeds,
                         const std::function<SeedOutcome(int64_t seed)>& run_one, const SeedLoopOptions& options = {});

}  // namespace propnet::experiment
