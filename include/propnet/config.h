#pragma once
// Typed experiment configuration: what `propnet train` runs. One schema (src/config/schema.cpp) reads
// and writes it as JSON, checks it, maps the CLI's flags onto it and documents it (configs/README.md);
// no JSON type appears in this header.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <c10/core/Device.h>

#include <propnet/data/dataset_kind.h>
#include <propnet/models/network_spec.h>

namespace propnet {

/// Mixed precision of the training and test steps (CUDA only).
enum class Amp {
  kOff,   ///< float32 throughout; the default.
  kBf16,  ///< bfloat16 autocast; needs no loss scaling.
  kFp16,  ///< float16 autocast with dynamic loss scaling (one host sync per step; not with CUDA graphs).
};

/// What `TrainSpec::batch_size` counts when W ranks train data parallel.
enum class BatchScope {
  kGlobal,  ///< The whole step: each rank runs batch_size / W (MXNet's and the paper's meaning); the default.
  kRank,    ///< Each rank runs batch_size; the step is batch_size x W.
};

/// The "data" object of a config.
struct DataSpec {
  data::DatasetKind dataset = data::DatasetKind::kCifar10;
  std::string dir;                  ///< Data folder; "" means the data set's default (Fashion-MNIST only).
  bool coarse_labels = false;       ///< CIFAR-100: the 20 coarse labels instead of the 100 fine ones.
  int64_t subset = 0;               ///< Train on the first N training images only (0 = all); quick checks.
  int64_t test_subset = 0;          ///< Evaluate on the first N test images only (0 = all).
  /// Hold the last N training images (after `subset`) out of training and evaluate them after every
  /// epoch as val_loss / val_acc (0 = none). Test images are never used for it.
  int64_t val_split = 0;
  bool augment = true;              ///< Pad-4 random crop + horizontal flip (spec §6).
  bool drop_last = false;           ///< Drop the last partial training batch instead of keeping it.
};

/// The "train" object of a config: the paper's protocol by default (spec §6). A library caller's
/// spec is checked by `validate(const TrainSpec&)` (the trainer calls it).
struct TrainSpec {
  int64_t epochs = 400;
  int64_t batch_size = 64;
  double lr = 0.1;
  double momentum = 0.9;
  bool nesterov = true;
  double weight_decay = 1e-4;  ///< On all parameters, BN and biases included.
  /// LR drops at these fractions of the run's optimizer steps (floored), as fusenet's lr_steps
  /// [E/2, 3E/4, 7E/8] counted in updates (train/schedule.h): epochs 200, 300, 350 of 400.
  std::vector<double> milestone_fractions{0.5, 0.75, 0.875};
  /// Explicit 0-based epochs of the drops (at their first step); when non-empty it replaces `milestone_fractions`.
  std::vector<int64_t> milestones;
  double lr_factor = 0.1;          ///< Multiplier applied at each milestone.
  int64_t eval_batch_size = 500;   ///< Batch size of the per-epoch test pass.
  /// The test pass runs after every N-th epoch and always after the last; 0: after the last only. A
  /// sweep that reads only the final accuracy saves the passes in between (training is unchanged).
  int64_t test_every = 1;
  int64_t checkpoint_every = 1;    ///< Write checkpoint.pt every N epochs (and always at the end).
  int64_t log_every = 50;          ///< Steps between progress reads (each read syncs the device).
  /// The device to train on; unset ("auto" in JSON): CUDA when available, else the CPU.
  /// Only the CPU and CUDA devices are accepted ("cuda" without an index is the current device).
  std::optional<c10::Device> device;
  Amp amp = Amp::kOff;
  /// NHWC parameters and inputs. Unset ("auto" in JSON): on for CPU runs where the fused BN+ReLU
  /// kernels run (faster there, README: Performance), off elsewhere; train::resolve_channels_last.
  std::optional<bool> channels_last;
  bool cuda_graph = false;         ///< Capture the training and test steps as CUDA graphs and replay them.
  bool deterministic = false;      ///< Also force deterministic cuDNN algorithms.
  int64_t threads = 0;             ///< CPU intra-op threads; 0 = every core.
  BatchScope batch_scope = BatchScope::kGlobal;
  /// BN statistics over chunks of at most this many images of each (per-rank) batch ("ghost" BN);
  /// 0 = the whole batch. bn_batch 32 with batch 64 on one process equals 2 ranks x 32.
  int64_t bn_batch = 0;
};

/// How `propnet search` chooses which ReLU sites to keep (docs/search.md).
enum class SearchMethod {
  kGates,       ///< Hard 0/1 site gates scored by the validation-loss gradient, top-k with hysteresis; the default.
  kGreedy,      ///< Train with every ReLU, then remove the site whose removal costs the least validation loss, repeatedly.
  kRandom,      ///< `count` masks uniform over those of the budget: the baseline generator.
  kExhaustive,  ///< Every mask of the budget, in lexicographic order: the oracle for small networks.
};

/// The "search" object of a config: what `propnet search` does; `propnet train` ignores it. The
/// budget is one of keep, keep_fraction and relu_budget (0 = not given).
struct SearchSpec {
  SearchMethod method = SearchMethod::kGates;
  int64_t keep = 0;               ///< Sites to keep.
  double keep_fraction = 0;       ///< Or: this fraction of the searchable sites, rounded.
  int64_t relu_budget = 0;        ///< Or: at most this many ReLU elements per image (gates, greedy).
  int64_t min_keep_per_stage = 1; ///< No stage becomes entirely linear.
  std::vector<int64_t> seeds{0};  ///< One search per seed: initial weights, batch order, score noise, random masks.
  int64_t count = 8;              ///< random: masks drawn.
  int64_t max = 256;              ///< exhaustive: refused above this many masks.
  double warmup_fraction = 0.1;   ///< gates: first epochs (this fraction, floored) with every ReLU kept.
  double freeze_fraction = 0.2;   ///< gates: last epochs with the mask fixed.
  int64_t score_every = 4;        ///< gates: one validation score step per this many training steps.
  int64_t reselect_every = 0;     ///< gates: training steps between reselections; 0 = a quarter epoch.
  int64_t score_batch = 64;       ///< gates, greedy: validation images per score batch.
  double beta = 0.99;             ///< gates: EMA factor of the scores per score step.
  double hysteresis = 0.1;        ///< gates: a site swaps in only if it beats a kept one by this x std(scores).
  int64_t greedy_batches = 5;     ///< greedy: validation batches that measure each removal.

  bool operator==(const SearchSpec& other) const;
  bool operator!=(const SearchSpec& other) const { return !(*this == other); }
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
  /// network.relu_mask_file: the file `network.mask.keep` was read from, kept as a record of the run.
  std::string relu_mask_file;
  DataSpec data;
  TrainSpec train;
  std::vector<int64_t> seeds{0};
  std::string out = "runs";             ///< Root folder of run folders.
  std::optional<PaperResult> paper;     ///< Paper's mean and std, when the paper reports them.
  SearchSpec search;                    ///< Written only when it differs from the defaults.
};

/// Parses a JSON config file. Throws c10::ValueError naming the file and the key path for
/// unknown keys (with a did-you-mean), wrong types and out-of-range values:
/// `config configs/t2.json: train.lr: expected a number > 0 (got -0.1)`.
ExperimentConfig load_config(const std::string& path);
/// Parses JSON text; `source` names it in errors ("config <source>: ...").
ExperimentConfig parse_config(const std::string& text, const std::string& source);
/// Applies `key.path=value` (value parsed as JSON, else taken as a string) as if written in the config.
void apply_override(ExperimentConfig& config, const std::string& assignment);
/// Checks every key's range and the cross-key rules (e.g. milestones within epochs, switches that
/// the network does not use); throws c10::ValueError.
void validate(const ExperimentConfig& config, const std::string& source = "flags");
/// Checks a training spec alone, as the trainer receives it from a library caller: the ranges of
/// the "train" keys and their cross-key rules (`TrainSpec: train.lr: expected a number > 0 (got -1)`).
void validate(const TrainSpec& spec);
/// What train.amp and train.cuda_graph need of the device and of data parallelism (fp16 and CUDA graphs
/// need CUDA, a graph cannot replay fp16's loss scaler, the gradient all-reduce of `ranks` > 1 runs
/// eagerly): the one home of these rules, which `validate`, the Trainer and `propnet bench` all call.
/// Throws c10::ValueError naming the key: `train.cuda_graph: expected false on train.device "cpu" (got true); ...`.
void check_device_rules(const TrainSpec& spec, const std::optional<c10::Device>& device, int64_t ranks = 1);
/// The fully resolved config as pretty JSON, every key in schema order, in the schema `parse_config`
/// reads. With `environment`, an "environment" object follows (versions, devices, the git revision
/// propnet was built from): what a run folder's config.json holds; `parse_config` ignores it.
std::string to_json(const ExperimentConfig& config, bool environment = false);
/// `name` if set, else "<net>-<depth>-<variant>-<dataset>".
std::string run_name(const ExperimentConfig& config);
/// The mask text in a mask file: a text file holding the mask (blank lines and lines starting with
/// '#' ignored, the others joined as units), or a JSON file (what `propnet search` writes) with a
/// "relu_mask" string. Throws c10::ValueError naming the file. Configs read `network.relu_mask_file`
/// with it when it is set (parse_config, apply_override, apply_flag), into `network.mask.keep`.
std::string read_relu_mask_file(const std::string& path);
/// Seeds from "0-4" or "0,2,5" (or a mix "0-2,7"); throws c10::ValueError otherwise.
std::vector<int64_t> parse_seed_list(const std::string& text);

/// A key whose value differs between two configs.
struct ConfigDifference {
  std::string path;    ///< "train.lr"
  std::string before;  ///< The first config's value as JSON ("0.1"), or "absent".
  std::string now;     ///< The second's.
};
/// The first key, in schema order, whose value differs between `before` and `now` among the keys
/// that change results (`ConfigKey::changes_results`), or nullopt: whether a run folder written for
/// `before` may be resumed with `now`.
std::optional<ConfigDifference> first_result_difference(const ExperimentConfig& before, const ExperimentConfig& now);

/// Which group of flags a key's flag belongs to (the CLI gives each group a help section).
enum class FlagGroup { kNetwork, kSwitches, kExperiment, kData, kTraining, kSearch };

/// The JSON type of a schema key (`propnet info --schema` spells them "string", "integer", ...).
enum class KeyType { kString, kInteger, kNumber, kBool, kChoice, kList, kSeeds, kObject };

/// A command-line flag that sets a config key (`propnet train --lr 0.05` sets train.lr).
struct ConfigFlag {
  std::string name;   ///< Without dashes: "lr", "no-augment". "" when the key has no flag.
  FlagGroup group = FlagGroup::kNetwork;
  std::string help;   ///< One line for --help.
  bool takes_value = true;   ///< false: a switch (--no-augment), which sets `switch_value`.
  std::string switch_value;  ///< JSON a switch sets ("false").
  std::string implicit_value;  ///< A value flag given bare (--channels-last means "on"); "" = none.
  bool repeatable = false;     ///< A list key: each use of the flag adds one value (--relu-drop A --relu-drop B).
};

/// One key of the schema: the table configs/README.md documents (a test keeps the two equal).
struct ConfigKey {
  std::string path;          ///< "train.lr"; objects too ("train"), with type "object".
  KeyType type = KeyType::kString;
  std::string default_json;  ///< The default as JSON text ("0.1"); "" for required keys and objects.
  std::string allowed;       ///< The allowed values or range, e.g. "> 0" or "\"off\", \"bf16\", \"fp16\"".
  std::string doc;           ///< One line.
  /// Whether a different value makes a different experiment. Keys that may change between the
  /// invocations of one run without changing what a seed computes (device, threads, logging, folders,
  /// the seed list itself) are false; the run-folder check ignores them.
  bool changes_results = true;
  ConfigFlag flag;
};
/// Every key and object of the schema, in the order `to_json` writes them.
const std::vector<ConfigKey>& config_keys();

/// Sets the key whose flag is `flag` (as `ConfigFlag::name`) from the flag's text, as if the key were
/// given in a config, with the same side effects as `apply_override` (a new data set moves the class
/// count along; a variant clears relu_mask). `text` is ignored for switches. Errors name the flag:
/// `--shortcut: expected one of A, B (got "C")`. Throws c10::ValueError.
void apply_flag(ExperimentConfig& config, const std::string& flag, const std::string& text);

}  // namespace propnet
