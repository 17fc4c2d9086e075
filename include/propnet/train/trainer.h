#pragma once
// Training and evaluation of one seed with the paper's protocol (spec §6). The library does not
// log: it reports through `TrainerHooks`, and the CLI turns that into progress lines and files.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <c10/core/Device.h>

#include <propnet/config.h>
#include <propnet/data/dataset.h>
#include <propnet/data/transforms.h>
#include <propnet/dist/group.h>
#include <propnet/models/network.h>

namespace propnet::train {

/// One row of metrics.jsonl / metrics.csv. `epoch` is 1-based (epochs completed).
struct EpochMetrics {
  int64_t epoch = 0;
  double lr = 0;
  double train_loss = 0;
  double train_acc = 0;      ///< Percent.
  double test_loss = 0;
  double test_acc = 0;       ///< Percent; the final epoch's is the reported result.
  double seconds = 0;        ///< Wall time of the epoch, training and test pass.
  double images_per_s = 0;   ///< Training images per second.
};

/// A progress reading, every `train.log_every` steps and at the end of each epoch.
struct StepProgress {
  int64_t epoch = 0;          ///< 1-based epoch being run.
  int64_t epochs = 0;
  int64_t step = 0;           ///< Steps done in this epoch.
  int64_t steps = 0;          ///< Steps per epoch.
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

/// Callbacks of a training run; any may be empty.
struct TrainerHooks {
  std::function<void(const StepProgress&)> on_progress;
  std::function<void(const EpochMetrics&)> on_epoch;
  /// Polled after every step; true finishes the step, writes a checkpoint and returns kStopped.
  std::function<bool()> stop_requested;
  /// Notable events ("resumed from epoch 3, step 120").
  std::function<void(const std::string&)> on_message;
};

/// Files of one seed's folder.
struct SeedFiles {
  explicit SeedFiles(std::filesystem::path dir);
  std::filesystem::path dir, checkpoint, model, metrics_jsonl, metrics_csv;
};

/// Trains seed `seed` of `config` on `data` (both splits already on `device`), writing checkpoint.pt
/// (atomically, every `checkpoint_every` epochs, on stop and at the end), model.pt and the metrics
/// files into `files.dir`. Resumes from an existing checkpoint.pt; a finished seed returns at once.
/// On CPU a stopped-and-resumed run ends with weights bitwise equal to an uninterrupted one.
///
/// With a `group` of W > 1 ranks (every rank calls this with the same arguments) the run is data
/// parallel: parameters and buffers are broadcast from rank 0, each rank takes its strided shard of
/// the same epoch order (train.batch_size / W images per step when train.batch_scope is "global"),
/// gradients are averaged over the ranks before each update, BN statistics stay per rank (their
/// running buffers are averaged before each test pass and checkpoint), the test set is split
/// between the ranks, and the metrics are global. Only rank 0 writes files; every rank reads an
/// existing checkpoint (a multi-node run needs the run folder on a shared filesystem). Stop requests
/// are agreed on: every rank stops after the same step (checked each step on CPU, at log points on
/// CUDA). At each epoch end the ranks verify that their weights are bitwise identical.
SeedResult train_seed(const ExperimentConfig& config, int64_t seed, const data::Dataset& data,
                      const c10::Device& device, const SeedFiles& files, const TrainerHooks& hooks = {},
                      const std::shared_ptr<dist::Group>& group = nullptr);

/// Mean loss and accuracy (percent) of `net` on `split` in eval mode.
struct EvalResult {
  double loss = 0;
  double accuracy = 0;
  int64_t images = 0;
};
EvalResult evaluate(models::Network& net, const data::Split& split, const data::Normalizer& normalizer,
                    int64_t batch_size, const TrainSpec& precision = {});

/// Reads the metrics a checkpoint holds (for summaries of finished or stopped seeds).
std::vector<EpochMetrics> read_checkpoint_metrics(const std::filesystem::path& checkpoint);
/// Reads the config JSON a checkpoint holds.
std::string read_checkpoint_config(const std::filesystem::path& checkpoint);

/// Loads model.pt or checkpoint.pt weights into `net` (built from the run's config).
void load_weights(models::Network& net, const std::filesystem::path& path);

}  // namespace propnet::train
