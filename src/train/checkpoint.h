#pragma once
// checkpoint.pt and model.pt: what they hold, written durably with the previous checkpoint kept
// beside the latest, and read back with one-line errors for damaged files.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <propnet/train/sgd.h>
#include <propnet/train/trainer.h>

namespace torch::nn {
class Module;
}

namespace propnet::train::detail {

/// Where a seed stands: everything a checkpoint holds besides the weights, optimizer and hook state.
struct Progress {
  int64_t epoch = 0;           ///< Epochs completed.
  int64_t step = 0;            ///< Steps completed within 0-based epoch `epoch`.
  double loss_sum = 0;         ///< Partial sums of that epoch.
  int64_t correct = 0;
  int64_t seen = 0;
  double train_seconds = 0;
  bool finished = false;
  int64_t world_size = 1;      ///< Data-parallel ranks that wrote it (a partial epoch resumes only with as many).
  std::vector<EpochMetrics> metrics;
};

/// Writes checkpoint.pt atomically and durably, keeping the previous one as checkpoint.prev.pt.
void save_checkpoint(const SeedFiles& files, torch::nn::Module& module, const MultiTensorSGD& optimizer,
                     const Progress& progress, const std::string& config, const StepHook* hook);

/// What `load_checkpoint` restored.
struct Restored {
  Progress progress;
  std::string note;  ///< Non-empty when checkpoint.prev.pt stood in for a damaged or missing checkpoint.pt.
};
/// Restores the latest readable checkpoint into `module`, `optimizer`, `hook` and the global CPU
/// generator: checkpoint.pt, or checkpoint.prev.pt when checkpoint.pt is damaged or missing. nullopt
/// when there is neither. Throws c10::Error naming the file when none is readable, or when it holds
/// another network or was written by another propnet version.
std::optional<Restored> load_checkpoint(const SeedFiles& files, torch::nn::Module& module, MultiTensorSGD& optimizer,
                                        StepHook* hook);

/// Writes model.pt (the module's parameters and buffers under their module-tree names, and `config`
/// as its "config" when not empty, so the file describes itself) atomically.
void save_model(const SeedFiles& files, torch::nn::Module& module, const std::string& config);

}  // namespace propnet::train::detail
