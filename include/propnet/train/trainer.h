#pragma once
// Training any module with the paper's protocol (spec §6): `Trainer` runs one seed of it, and
// `train_seed` is the registry network's case. The library does not log: it reports through
// `TrainerHooks`, and the CLI turns that into progress lines and files.
//
// Process-wide effects, which a caller sharing the process should know of:
// - On CUDA, `Trainer::run` sets cuDNN's benchmark and deterministic flags from the spec for its
//   duration and restores the previous flags when it returns.
// - Resuming restores LibTorch's global CPU generator from the checkpoint (it was saved with it), so
//   that anything a module or hook draws from it continues as in an uninterrupted run. Nothing in
//   the trainer itself draws from it: the epoch order and the augmentation derive from the seed.
// - `train_seed` seeds the global generator with the seed before it builds the network (the
//   network's initial weights); a Trainer leaves the initialisation to whoever built the module.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <c10/core/Device.h>
#include <torch/nn/modules/container/any.h>

#include <propnet/config.h>
#include <propnet/data/dataset.h>
#include <propnet/data/transforms.h>
#include <propnet/dist/group.h>
#include <propnet/models/network.h>
#include <propnet/train/results.h>

namespace torch::serialize {
class InputArchive;
class OutputArchive;
}  // namespace torch::serialize

namespace propnet::train {
namespace detail {
class TrainerRun;
}  // namespace detail

/// What a `StepHook` sees after a training step.
struct StepContext {
  int64_t epoch = 0;        ///< 0-based epoch of the step.
  int64_t step = 0;         ///< 0-based step within the epoch, just done (its update applied).
  int64_t steps = 0;        ///< Steps per epoch.
  double lr = 0;            ///< The learning rate of this step (the schedule counts steps).
  c10::Device device = c10::kCPU;
  bool channels_last = false;  ///< The layout the module runs in; `input` applies it.
  /// The precision the training steps run in: a hook's own passes run in AutocastScope(device, amp)
  /// (propnet/train/precision.h) to see the network as the steps do.
  Amp amp = Amp::kOff;
  /// The module being trained (in training mode; a hook that switches it must switch it back).
  torch::nn::Module* module = nullptr;
  /// The module's forward: (B, C, H, W) float input -> (B, classes) logits.
  std::function<at::Tensor(const at::Tensor&)> forward;
  /// The network input for `indices` of `split` (a split on the training device), normalized as
  /// training batches are, without augmentation, in the module's layout: what `forward` takes.
  std::function<at::Tensor(const data::Split& split, const at::Tensor& indices)> input;
};

/// Extra work inside the training loop, e.g. passes on validation batches whose gradients score
/// something (the ReLU-site search). It runs after every step's update, on the step's thread.
///
/// A hook may run its own forward and backward passes; gradients it leaves in the parameters'
/// `.grad` are zeroed by the next step before its backward pass. It must not change the module's
/// parameters unless that is its purpose. Its state goes into checkpoint.pt through `save` and
/// comes back through `load` before the first step of a resumed run, so that a stopped and resumed
/// run continues it exactly (bitwise on CPU) as an uninterrupted one.
class StepHook {
 public:
  virtual ~StepHook() = default;
  /// After every training step.
  virtual void after_step(const StepContext& context) = 0;
  /// After each epoch's test pass (and its `on_epoch` hook); `epoch` is 1-based.
  virtual void after_epoch(int64_t /*epoch*/) {}
  /// Writes the hook's state into the checkpoint's "hook" archive.
  virtual void save(torch::serialize::OutputArchive& /*archive*/) const {}
  /// Reads what `save` wrote (only called when resuming from a checkpoint that has it).
  virtual void load(torch::serialize::InputArchive& /*archive*/) {}
};

/// Callbacks of a training run; any may be empty.
struct TrainerHooks {
  std::function<void(const StepProgress&)> on_progress;
  std::function<void(const EpochMetrics&)> on_epoch;
  /// Polled after every step; true finishes the step, writes a checkpoint and returns kStopped.
  std::function<bool()> stop_requested;
  /// Notable events ("resumed from epoch 3, step 120", "checkpoint.pt is damaged; ...").
  std::function<void(const std::string&)> on_message;
  /// Runs after every step; see `StepHook`.
  std::shared_ptr<StepHook> step;
};

/// Everything a `Trainer` needs besides the module and the data.
struct TrainerOptions {
  TrainSpec spec;     ///< The protocol; checked with `validate(const TrainSpec&)`.
  int64_t seed = 0;   ///< Epoch order and augmentation derive from it.
  /// The device (checked by `resolve_device`); unset: `spec.device`. The module and data are moved there.
  std::optional<c10::Device> device;
  /// The seed's folder: checkpoint.pt (+ checkpoint.prev.pt), model.pt, metrics.jsonl/.csv; an
  /// existing checkpoint is resumed. Empty: nothing is written and nothing resumed.
  std::filesystem::path dir;
  bool augment = true;     ///< Pad-4 random crop + flip on training batches (spec §6).
  bool drop_last = false;  ///< Drop the last partial training batch.
  /// Data parallel: every rank constructs the same Trainer with its group (see `train_seed`).
  std::shared_ptr<dist::Group> group;
  TrainerHooks hooks;
  /// Stored in checkpoint.pt and model.pt as their "config" (`read_saved_config`); `train_seed` stores
  /// the run's config so that `propnet eval` can rebuild the network from either file alone, anywhere.
  std::string checkpoint_config;
};

/// Trains one module for one seed with the paper's protocol: the seeded epoch order, augmentation,
/// `MultiTensorSGD` with the lr schedule, the eager or CUDA-graph step, a test pass after every
/// epoch (none when the data's test split is empty, as a search gives it), checkpoint and resume, the NaN guard, stop requests and data-parallel synchronisation.
///
/// The module maps normalized (B, C, 32, 32) float images (C = the data's channels) to (B, classes)
/// logits; it is trained in place. Any `torch::nn::Module` with such a `forward` works:
/// ```
/// struct TinyNetImpl : torch::nn::Module { ... torch::Tensor forward(torch::Tensor x); };
/// TORCH_MODULE(TinyNet);
/// TinyNet net;
/// TrainerOptions options;
/// options.spec.epochs = 2;
/// options.dir = "runs/tiny/seed-0";
/// SeedResult result = Trainer(net, data, options).run();   // data: a data::Dataset
/// ```
/// Parameters that do not require grad are not optimized. With a group of W > 1 ranks the run is
/// data parallel as `train_seed` describes.
class Trainer {
 public:
  Trainer(torch::nn::AnyModule module, const data::Dataset& data, TrainerOptions options);
  /// Any module holder (`TinyNet`, `models::Network`) or `std::shared_ptr` to a module with a forward.
  template <typename Module, typename = std::enable_if_t<!std::is_same_v<std::decay_t<Module>, torch::nn::AnyModule>>>
  Trainer(Module module, const data::Dataset& data, TrainerOptions options)
      : Trainer(torch::nn::AnyModule(std::move(module)), data, std::move(options)) {}
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  /// Runs (or resumes) the seed to its end, a stop request or a NaN loss. A finished seed (its
  /// checkpoint says so and model.pt exists) returns its metrics at once. On CPU a stopped-and-resumed
  /// run ends with weights bitwise equal to an uninterrupted one. Throws c10::ValueError for a bad
  /// spec or settings the device cannot run, c10::Error for unreadable files.
  SeedResult run();

 private:
  friend class detail::TrainerRun;  // one run() in its phases (trainer.cpp)
  struct State;
  std::unique_ptr<State> state_;
};

/// The Trainer's options for seed `seed` of `config`: its protocol, augmentation, drop_last and the
/// config stored in the checkpoint; the caller adds the device, folder, group and hooks.
TrainerOptions trainer_options(const ExperimentConfig& config, int64_t seed);

/// Trains seed `seed` of `config` on `data` (both splits already on `device`) with a registry
/// network built from `config.network`, writing checkpoint.pt (atomically, every `checkpoint_every`
/// epochs, on stop and at the end; the previous one kept as checkpoint.prev.pt), model.pt and the
/// metrics files into `files.dir`. Resumes from an existing checkpoint; a finished seed returns at once.
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

/// Mean loss and accuracy (percent) of a module on `split` in eval mode.
struct EvalResult {
  double loss = 0;
  double accuracy = 0;
  int64_t images = 0;
};
/// Evaluates `module` (any module with a forward, as `Trainer` takes) on `split` (on the module's
/// device) with `precision`'s amp and layout.
EvalResult evaluate(torch::nn::AnyModule module, const data::Split& split, const data::Normalizer& normalizer,
                    int64_t batch_size, const TrainSpec& precision = {});
/// Any module holder (`TinyNet`, `models::Network`).
template <typename Module, typename = std::enable_if_t<!std::is_same_v<std::decay_t<Module>, torch::nn::AnyModule>>>
EvalResult evaluate(Module module, const data::Split& split, const data::Normalizer& normalizer, int64_t batch_size,
                    const TrainSpec& precision = {}) {
  return evaluate(torch::nn::AnyModule(std::move(module)), split, normalizer, batch_size, precision);
}

/// Reads the metrics a checkpoint holds (for summaries of finished or stopped seeds). Throws c10::Error
/// naming the file when it is damaged (truncated, empty, not a checkpoint).
std::vector<EpochMetrics> read_checkpoint_metrics(const std::filesystem::path& checkpoint);

/// The config JSON a model.pt or checkpoint.pt holds, or nullopt for a model.pt written before model
/// files carried their config (its run folder's config.json describes it). Throws c10::Error naming
/// the file when it is not a readable model file or checkpoint (empty, truncated, not an archive).
std::optional<std::string> read_saved_config(const std::filesystem::path& path);

/// Loads model.pt or checkpoint.pt weights into `module` (built as the run built it). Throws c10::Error
/// naming the file when it is missing, damaged or holds another network.
void load_weights(torch::nn::Module& module, const std::filesystem::path& path);
void load_weights(models::Network& net, const std::filesystem::path& path);

}  // namespace propnet::train
