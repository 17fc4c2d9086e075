#pragma once
// What `propnet train` and `propnet search` share around the library's seed loop: the ranks' device,
// threads and group; a log file per seed; and the end of a run: its summary, the resume line after a
// stop, the exit code.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <c10/core/Device.h>
#include <cxxopts.hpp>

#include <propnet/config.h>
#include <propnet/dist/group.h>
#include <propnet/dist/launch.h>
#include <propnet/experiment/run_folder.h>
#include <propnet/experiment/seed_loop.h>
#include <propnet/train/trainer.h>

#include "progress.h"

namespace propnet::cli {

/// This process's part of a run: one process, or one rank of a data-parallel launch.
struct Launch {
  dist::LaunchEnv env;
  c10::Device device = c10::kCPU;
  int64_t threads = 0;
  std::shared_ptr<dist::Group> group;  ///< Set by `connect`; null for one process.
  bool rank0() const { return env.rank == 0; }
  /// "data parallel: 2 ranks (torchrun, gloo), <detail><the ranks>"; `connect` first.
  std::string describe(const std::string& detail = "") const;
};
/// The launch, checked against `config` (UsageError), with the rank's device and threads set; no
/// connection yet.
Launch start_launch(const ExperimentConfig& config);
/// Joins the ranks' group (--dist-timeout bounds it); nothing for one process.
void connect(Launch& launch, const cxxopts::ParseResult& flags);

/// A Trainer's progress, epoch and message hooks on `reporter`, and stop requests from SIGINT/SIGTERM.
train::TrainerHooks reporter_hooks(ProgressReporter& reporter, int64_t epochs);

/// How a command runs its seeds.
struct SeedSession {
  std::string command;   ///< "train", "search": the resume line's command
  std::string what;      ///< How messages name a seed: "seed", "search seed".
  std::string log_name;  ///< The per-seed log: "train.log", "search.log".
  /// Writes the run folder's summary (rank 0, after every seed and at the end) and returns what the
  /// finished run prints on stdout.
  std::function<std::string()> write_summary;
};

/// Runs `run_one` over `seeds` (`experiment::run_seeds`) with SIGINT/SIGTERM asking a stop, then ends
/// the run: the summary, and after a stop the resume command (from argv). Returns the exit code: 0,
/// 1 when a seed failed, 128 + the signal after a stop.
int run_session(const SeedSession& session, const experiment::RunFolder& folder, const std::vector<int64_t>& seeds,
                const Launch& launch, ProgressReporter& reporter,
                const std::function<experiment::SeedOutcome(int64_t seed)>& run_one, int argc, char** argv);

}  // namespace propnet::cli
