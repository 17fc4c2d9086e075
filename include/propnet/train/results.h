#pragma once
// What training leaves: per-epoch metrics, progress readings, a seed's result and its files.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace propnet::train {

/// One row of metrics.jsonl / metrics.csv. `epoch` is 1-based (epochs completed).
struct EpochMetrics {
  int64_t epoch = 0;
  double lr = 0;             ///< In effect at the epoch's end (the schedule counts steps: it may drop mid-epoch).
  double lr_start = 0;       ///< At the epoch's first step; written as "lr_start" where it differs from `lr`.
  double train_loss = 0;
  double train_acc = 0;      ///< Percent.
  bool has_test = true;      ///< The test split was evaluated (not by a search, which never reads the test set, nor
                             ///< in the epochs train.test_every skips).
  double test_loss = 0;
  double test_acc = 0;       ///< Percent; the final epoch's is the reported result.
  bool has_val = false;      ///< A validation split was evaluated (data.val_split > 0).
  double val_loss = 0;       ///< On the held-out training images; never test images.
  double val_acc = 0;        ///< Percent.
  double seconds = 0;        ///< Wall time of the epoch, training, test and validation passes.
  double images_per_s = 0;   ///< Training images per second.
};

/// A progress reading, every `train.log_every` steps and at the end of each epoch.
struct StepProgress {
  int64_t epoch = 0;          ///< 1-based epoch being run.
  int64_t epochs = 0;
  int64_t step = 0;           ///< Steps done in this epoch.
  int64_t steps = 0;          ///< Steps per epoch.
  double lr = 0;              ///< In effect now.
  double loss = 0;            ///< Mean training loss of the epoch so far.
  double accuracy = 0;        ///< Training accuracy of the epoch so far, percent.
  double images_per_s = 0;
  double eta_seconds = 0;     ///< Remaining time of this seed.
};

/// How a seed ended.
enum class SeedStatus {
  kDone,     ///< All epochs ran; model.pt holds the final weights.
  kStopped,  ///< Stopped on request; checkpoint.pt resumes it.
  kFailed,   ///< The loss became NaN/Inf; checkpoint.pt holds the last good epoch.
};

struct SeedResult {
  int64_t seed = 0;
  SeedStatus status = SeedStatus::kDone;
  std::string message;                 ///< Why it stopped or failed.
  std::vector<EpochMetrics> metrics;   ///< Every completed epoch, resumed ones included.
  double final_test_acc() const { return metrics.empty() ? 0.0 : metrics.back().test_acc; }
};

/// Files of one seed's folder.
struct SeedFiles {
  explicit SeedFiles(std::filesystem::path dir);
  std::filesystem::path dir, checkpoint, previous_checkpoint, model, metrics_jsonl, metrics_csv;
  /// Whether the seed finished: model.pt exists. The Trainer writes it last, after the final
  /// checkpoint, so this is the one test of a finished training seed (`experiment::RunFolder::done`).
  bool finished() const;
};

}  // namespace propnet::train
