#include "experiment_setup.h"

#include <iostream>

#include <c10/util/Exception.h>
#include <fmt/format.h>

#include <propnet/choices.h>
#include <propnet/models/network_mask.h>
#include <propnet/runtime.h>
#include <propnet/train/device.h>
#include <propnet/train/precision.h>

#include "cli.h"
#include "log.h"

namespace propnet::cli {

void add_run_flags(cxxopts::Options& options, const FlagSelection& selection, const std::string& config_help,
                   const std::string& set_example) {
  options.add_options(flag_groups::kExperiment)
      ("config", config_help, cxxopts::value<std::string>())
      ("set", "override a config key: --set " + set_example + " (repeatable)", cxxopts::value<std::vector<std::string>>())
      ("resume", "continue the run folder's seeds where they stopped (the default; skips finished seeds)")
      ("restart", "discard the run folder's seeds instead of resuming them")
      ("print-config", "print the resolved config as JSON (seed lists expanded, \"name\" the run folder's) and "
                       "exit; nothing is read or run");
  add_config_flags(options, selection);
  options.add_options(flag_groups::kTraining)
      ("dist-timeout", "data-parallel runs: seconds a rank waits for the others (rendezvous and every "
                       "collective) before it fails (default 600)", cxxopts::value<double>())
      ("q,quiet", "only warnings, errors and the result")
      ("v,verbose", "every progress reading as a log line")
      ("h,help", "show this help");
}

bool print_config_if_asked(const cxxopts::ParseResult& flags, ExperimentConfig config, const std::string& folder) {
  if (!flags.count("print-config")) return false;
  config.name = folder;
  std::cout << to_json(config) << "\n";
  return true;
}

void check_run_flags(const cxxopts::ParseResult& flags) {
  if (!flags.unmatched().empty()) throw UsageError("unexpected argument \"" + flags.unmatched().front() + "\"");
  if (flags.count("resume") && flags.count("restart")) throw UsageError("--resume and --restart are exclusive");
}

Verbosity verbosity_of(const cxxopts::ParseResult& flags) {
  return flags.count("quiet") ? Verbosity::kQuiet : flags.count("verbose") ? Verbosity::kVerbose : Verbosity::kNormal;
}

double dist_timeout_of(const cxxopts::ParseResult& flags) {
  const double seconds = flags.count("dist-timeout") ? flags["dist-timeout"].as<double>() : 600.0;
  if (!(seconds > 0)) throw UsageError("--dist-timeout: expected seconds > 0 (got " + std::to_string(seconds) + ")");
  return seconds;
}

ExperimentConfig resolve_config(const cxxopts::ParseResult& flags, const FlagSelection& selection,
                                const std::string& command) {
  ExperimentConfig config;
  std::string source = "flags";
  if (flags.count("config")) {
    source = flags["config"].as<std::string>();
    config = load_config(source);
  } else if (!flags.count("net") || !flags.count("depth")) {
    throw UsageError("give --config FILE, or at least --net and --depth (see 'propnet " + command + " --help')");
  }
  if (flags.count("set")) {
    for (const auto& assignment : flags["set"].as<std::vector<std::string>>()) apply_override(config, assignment);
  }
  apply_config_flags(config, flags, selection);
  validate(config, source);
  // config.json records the mask a mask file or --relu-drop resolved to, not only how it was asked for.
  config.network = models::with_resolved_mask(config.network);
  return config;
}

void check_launch(const ExperimentConfig& config, const dist::LaunchEnv& launch) {
  const std::optional<c10::Device>& device = config.train.device;
  if (launch.distributed() && device && device->is_cuda() && device->has_index()) {
    throw UsageError("train.device: expected \"cuda\" in a data-parallel run (got \"" + device->str() + "\" with " +
                     std::to_string(launch.world_size) + " ranks, which would all use that one GPU); with \"cuda\" " +
                     "each rank takes GPU LOCAL_RANK; pick GPUs with CUDA_VISIBLE_DEVICES");
  }
  check_device_rules(config.train, device, launch.world_size);
}

data::Dataset load_experiment_data(const ExperimentConfig& config, const c10::Device& device, bool test_split) {
  const std::string data_dir = config.data.dir.empty() ? data::default_data_dir(config.data.dataset) : config.data.dir;
  if (data_dir.empty()) {
    const bool is_default = config.data.dataset == DataSpec{}.dataset;
    const std::string fashion = data::default_data_dir(data::DatasetKind::kFashionMnist);
    throw UsageError(to_string(config.data.dataset) + (is_default ? " (the default data set)" : "") +
                     " needs --data-dir (or data.dir): scripts/download_cifar.sh fetches it" +
                     (fashion.empty() ? "" : "; --dataset fashion-mnist needs no download (found in " + fashion + ")"));
  }
  data::Dataset dataset = data::load_dataset(
      config.data.dataset, data_dir,
      data::DatasetOptions().coarse_labels(config.data.coarse_labels).device(device).test_split(test_split));
  // validate() already matched the network to the data set's name; this catches files that disagree.
  TORCH_CHECK(config.network.num_classes == dataset.num_classes() && config.network.in_channels == dataset.channels,
              to_string(config.data.dataset), ": the files hold ", dataset.num_classes(), " classes of ",
              dataset.channels, "-channel images, but the network expects ", config.network.num_classes,
              " classes of ", config.network.in_channels, "-channel images");
  // A subset larger than the split is the whole split: say so rather than train on more than was asked for silently.
  const auto capped = [&](const char* key, int64_t subset, int64_t size, const char* split) {
    if (subset > size) {
      log::warn(fmt::format("{} {} is more than the {} {} images of {}; using all {}", key, subset, size, split,
                            to_string(config.data.dataset), size));
    }
  };
  capped("--subset", config.data.subset, dataset.train.size(), "training");
  if (test_split) capped("--test-subset", config.data.test_subset, dataset.test.size(), "test");
  return dataset;
}

std::string shell_command(const std::string& command, int argc, char** argv) {
  std::string line = "propnet";
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (i == 0) arg = command;
    const bool plain = arg.find_first_of(" \t'\"$`\\*?;&|<>()") == std::string::npos && !arg.empty();
    line += " " + (plain ? arg : "'" + arg + "'");
  }
  return line;
}

std::string device_notes(const ExperimentConfig& config, const c10::Device& device, int64_t threads) {
  std::string notes = device.is_cpu() ? std::to_string(threads) + (threads == 1 ? " thread" : " threads") : "";
  if (train::resolve_channels_last(config.train.channels_last, device)) {
    notes += notes.empty() ? "channels_last" : ", channels_last";
  }
  return notes.empty() ? "" : " (" + notes + ")";
}

void warn_about_cpu_precision(const TrainSpec& spec, const c10::Device& device) {
  if (!device.is_cpu() || !train::uses_autocast(spec.amp, device)) return;
  if (const std::string warning = bf16_cpu_warning(cpu_features()); !warning.empty()) log::warn(warning);
}

}  // namespace propnet::cli
