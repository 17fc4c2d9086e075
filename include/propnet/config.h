#pragma once
// Typed experiment configuration: what `propnet train` runs. JSON lives only in src/config.cpp.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <propnet/models/network_spec.h>

namespace propnet {

/// The "data" object of a config.
struct DataSpec {
  std::string dataset = "cifar10";  ///< "cifar10", "cifar100" or "fashion-mnist".
  std::string dir;                  ///< Data folder; "" means the data set's default (Fashion-MNIST only).
  bool coarse_labels = false;       ///< CIFAR-100: the 20 coarse labels instead of the 100 fine ones.
  int64_t subset = 0;               ///< Train on the first N training images only (0 = all); quick checks.
  int64_t test_subset = 0;          ///< Evaluate on the first N test images only (0 = all).
  bool augment = true;              ///< Pad-4 random crop + horizontal flip (spec §6).
  bool drop_last = false;           ///< Drop the last partial training batch instead of keeping it.
};

/// The "train" object of a config: the paper's protocol by default (spec §6).
struct TrainSpec {
  int64_t epochs = 400;
  int64_t batch_size = 64;
  /// What `batch_size` counts in a data-parallel run of W ranks: "global" (the default, MXNet's and
  /// the paper's meaning: each rank runs batch_size / W) or "rank" (each rank runs batch_size).
  std::string batch_scope = "global";
  /// BN statistics over chunks of at most this many images of each (per-rank) batch ("ghost" BN);
  /// 0 = the whole batch. bn_batch 32 with batch 64 on one process equals 2 ranks x 32.
  int64_t bn_batch = 0;
  double lr = 0.1;
  double momentum = 0.9;
  bool nesterov = true;
  double weight_decay = 1e-4;  ///< On all parameters, BN and biases included.
  /// LR drops at these fractions of `epochs` (floored), as fusenet's lr_steps [E/2, 3E/4, 7E/8].
  std::vector<double> milestone_fractions{0.5, 0.75, 0.875};
  /// Explicit 0-based epochs of the drops; when non-empty it replaces `milestone_fractions`.
  std::vector<int64_t> milestones;
  double lr_factor = 0.1;          ///< Multiplier applied at each milestone.
  int64_t eval_batch_size = 500;   ///< Batch size of the per-epoch test pass.
  int64_t checkpoint_every = 1;    ///< Write checkpoint.pt every N epochs (and always at the end).
  int64_t log_every = 50;          ///< Steps between progress reads (each read syncs the device).
  std::string device = "auto";     ///< "auto", "cpu", "cuda" or "cuda:N".
  std::string amp = "off";         ///< "off", "bf16" or "fp16" (CUDA only).
  /// NHWC parameters and inputs. Unset ("auto" in JSON): on for CPU runs where the fused BN+ReLU
  /// kernels run (faster there, README: Performance), off elsewhere; train::resolve_channels_last.
  std::optional<bool> channels_last;
  bool cuda_graph = false;         ///< Capture the training and test steps as CUDA graphs and replay them.
  bool deterministic = false;      ///< Also force deterministic cuDNN algorithms.
  int64_t threads = 0;             ///< CPU intra-op threads; 0 = every core.
};

/// A paper's reported result for the row a config reproduces.
struct PaperResult {
  double mean = 0;
  double std = 0;
};

/// One experiment: a network, a data set, a protocol and the seeds to run.
struct ExperimentConfig {
  std::string name;                     ///< Run folder under `out`; "" = derived from the network and data.
  models::NetworkSpec network;
  DataSpec data;
  TrainSpec train;
  std::vector<int64_t> seeds{0};
  std::string out = "runs";             ///< Root folder of run folders.
  std::optional<PaperResult> paper;     ///< Paper's mean and std, when the paper reports them.
};

/// Parses a JSON config file. Throws c10::ValueError naming the file and the key path for
/// unknown keys (with a did-you-mean), wrong types and out-of-range values:
/// `config configs/t2.json: train.lr: expected a number > 0 (got -0.1)`.
ExperimentConfig load_config(const std::string& path);
/// Parses JSON text; `source` names it in errors ("config <source>: ...").
ExperimentConfig parse_config(const std::string& text, const std::string& source);
/// Applies `key.path=value` (value parsed as JSON, else taken as a string) as if written in the config.
void apply_override(ExperimentConfig& config, const std::string& assignment);
/// Checks cross-field rules (e.g. milestones within epochs); throws c10::ValueError.
void validate(const ExperimentConfig& config, const std::string& source = "flags");
/// The fully resolved config as pretty JSON, in the same schema `parse_config` reads.
std::string to_json(const ExperimentConfig& config);
/// `name` if set, else "<net>-<depth>-<variant>-<dataset>".
std::string run_name(const ExperimentConfig& config);
/// Seeds from "0-4" or "0,2,5" (or a mix "0-2,7"); throws c10::ValueError otherwise.
std::vector<int64_t> parse_seed_list(const std::string& text);

}  // namespace propnet
