#pragma once
// A run folder: one experiment (its config.json) and one folder per seed, resumed by running the same
// experiment again. The folder layout, the FAILED marker and the rule for "this seed is done" live
// here and nowhere else; `propnet train` and `propnet search` both use it.
//
//   <run folder>/config.json      the experiment (schema order, with the environment)
//   <run folder>/summary.json     per seed: status and final test accuracy; mean ± std (training)
//   <run folder>/seed-<s>/        one seed: checkpoint.pt, model.pt, metrics, or search.json
//   <run folder>/seed-<s>/FAILED  the seed failed; the file holds why
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <propnet/config.h>
#include <propnet/train/statistics.h>

namespace propnet::experiment {

/// What a seed of a run folder is now, as its files say.
enum class SeedState {
  kDone,        ///< Finished: its result file exists (model.pt after training, search.json after a search).
  kStopped,     ///< Started and stopped (interrupted or killed): its checkpoint resumes it.
  kFailed,      ///< The FAILED marker is there (the loss became NaN/Inf); rerunning retries it.
  kIncomplete,  ///< A seed folder with nothing to resume from.
  kUnreadable,  ///< Its checkpoint is damaged.
};
/// "done", "stopped", "failed", "incomplete", "unreadable": summary.json's spelling.
std::string to_string(SeedState state);

/// One seed as a run folder holds it.
struct SeedRecord {
  int64_t seed = 0;
  SeedState state = SeedState::kIncomplete;
  int64_t epochs_completed = 0;
  std::optional<double> final_test_acc;  ///< The last completed epoch's, when it was tested.
  std::string message;                   ///< Why it failed or cannot be read.
};

/// What summary.json holds: every seed folder and the statistics over the done seeds' final test accuracy.
struct RunSummary {
  std::vector<SeedRecord> seeds;
  train::SeedStatistics statistics;
  /// "93.05 ± 0.12 (n=5, sample std); median (mean ± std_pop, best): 93.10 (93.05 ± 0.11, 93.20)", or
  /// "no finished seed yet".
  std::string line() const;
};

class RunFolder {
 public:
  /// What the seeds of the folder produce, and so which file says that a seed is done.
  enum class Kind {
    kTraining,  ///< `train::Trainer` seeds: done when model.pt exists (written last, after the final checkpoint).
    kSearch,    ///< Searches: done when search.json exists (written last, atomically).
  };

  RunFolder(std::filesystem::path dir, Kind kind);

  const std::filesystem::path& dir() const { return dir_; }
  Kind kind() const { return kind_; }
  /// `dir`/seed-<seed>.
  std::filesystem::path seed_dir(int64_t seed) const;
  /// The seed of a seed folder's name ("seed-3" -> 3); nullopt for other names ("seed-old").
  static std::optional<int64_t> seed_of(const std::filesystem::path& seed_dir);
  /// The seeds that have a folder here, in increasing order.
  std::vector<int64_t> seeds_on_disk() const;

  /// Makes the folder ready for `config` and writes its config.json. With `restart` the seed folders
  /// and summaries are discarded first; otherwise an existing config.json must describe the same
  /// experiment (`first_result_difference`): c10::ValueError naming the first key that differs.
  void prepare(const ExperimentConfig& config, bool restart) const;

  /// The file whose presence marks `seed` as done (see `Kind`): its model.pt or search.json.
  std::filesystem::path result_file(int64_t seed) const;
  /// Whether `seed` is done: its result file exists. The one definition.
  bool done(int64_t seed) const;
  /// Makes the seed's folder and removes its FAILED marker: a failed seed is retried from its last
  /// good checkpoint.
  void begin_seed(int64_t seed) const;
  /// Writes the FAILED marker with `reason`.
  void mark_failed(int64_t seed, const std::string& reason) const;
  /// The seed's record from its files (a damaged checkpoint gives kUnreadable, never an exception).
  SeedRecord record(int64_t seed) const;

  /// Every seed folder's record and the statistics; `summary.json` holds the same.
  RunSummary summarize() const;
  /// Writes summary.json atomically (`config` names the run, its data set, epochs and the paper's
  /// result) and returns the summary.
  RunSummary write_summary(const ExperimentConfig& config) const;

 private:
  std::filesystem::path dir_;
  Kind kind_;
};

}  // namespace propnet::experiment
