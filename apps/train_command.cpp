// `propnet train`: the paper's protocol over several seeds, resumable, with mean ± std at the end.
#include <chrono>
#include <exception>
#include <fstream>
#include <functional>
#include <thread>
#include <iostream>

#include <ATen/ops/full.h>
#include <c10/util/Exception.h>
#include <cxxopts.hpp>
#include <torch/cuda.h>
#include <nlohmann/json.hpp>
#include <fmt/format.h>

#include <propnet/config.h>
#include <propnet/data/dataset.h>
#include <propnet/dist/group.h>
#include <propnet/dist/launch.h>
#include <propnet/runtime.h>
#include <propnet/train/device.h>
#include <propnet/train/trainer.h>

#include "cli.h"
#include "log.h"
#include "network_flags.h"
#include "progress.h"
#include "run_summary.h"
#include "signals.h"

#ifndef PROPNET_GIT_SHA
#define PROPNET_GIT_SHA "unknown"
#endif

namespace propnet::cli {
namespace {

// Keys that may change between invocations of the same run without changing its results.
const char* const kRunInvariantExceptions[][2] = {{"seeds", ""},          {"out", ""},
                                                  {"environment", ""},    {"train", "device"},
                                                  {"train", "threads"},   {"train", "log_every"},
                                                  {"train", "checkpoint_every"}, {"data", "dir"}};

nlohmann::json comparable(nlohmann::json config) {
  for (const auto& [object, key] : kRunInvariantExceptions) {
    if (*key == '\0') {
      config.erase(object);
    } else if (config.contains(object)) {
      config[object].erase(key);
    }
  }
  return config;
}

// "train.lr (0.1 in the run folder, 0.05 now)" for the first difference.
std::string first_difference(const nlohmann::json& old_config, const nlohmann::json& new_config) {
  for (const auto& op : nlohmann::json::diff(old_config, new_config)) {
    std::string path = op["path"].get<std::string>().substr(1);
    std::replace(path.begin(), path.end(), '/', '.');
    const nlohmann::json::json_pointer pointer(op["path"].get<std::string>());
    const std::string was = old_config.contains(pointer) ? old_config[pointer].dump() : "absent";
    const std::string now = new_config.contains(pointer) ? new_config[pointer].dump() : "absent";
    return path + " (" + was + " in the run folder, " + now + " now)";
  }
  return "";
}

std::string shell_command(int argc, char** argv) {
  std::string command = "propnet";
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (i == 0) arg = "train";
    const bool plain = arg.find_first_of(" \t'\"$`\\*?;&|<>()") == std::string::npos && !arg.empty();
    command += " " + (plain ? arg : "'" + arg + "'");
  }
  return command;
}

nlohmann::json environment() {
  const RuntimeInfo info = runtime_info();
  return {{"propnet", info.propnet_version},
          {"libtorch", info.torch_version},
          {"cuda", info.cuda_compiled},
          {"cuda_devices", info.cuda_devices},
          {"git_sha", PROPNET_GIT_SHA}};
}

ExperimentConfig resolve_config(const cxxopts::ParseResult& flags) {
  ExperimentConfig config;
  std::string source = "flags";
  if (flags.count("config")) {
    source = flags["config"].as<std::string>();
    config = load_config(source);
  } else if (!flags.count("net") || !flags.count("depth")) {
    throw UsageError("give --config FILE, or at least --net and --depth (see 'propnet train --help')");
  }
  if (flags.count("set")) {
    for (const auto& assignment : flags["set"].as<std::vector<std::string>>()) apply_override(config, assignment);
  }
  apply_network_flags(config.network, flags);
  if (flags.count("name")) config.name = flags["name"].as<std::string>();
  if (flags.count("out")) config.out = flags["out"].as<std::string>();
  // Through apply_override so that network.classes and in_channels follow the data set they defaulted from.
  if (flags.count("dataset")) apply_override(config, "data.dataset=" + flags["dataset"].as<std::string>());
  if (flags.count("coarse")) apply_override(config, "data.coarse_labels=true");
  if (flags.count("data-dir")) config.data.dir = flags["data-dir"].as<std::string>();
  if (flags.count("subset")) config.data.subset = flags["subset"].as<int64_t>();
  if (flags.count("test-subset")) config.data.test_subset = flags["test-subset"].as<int64_t>();
  if (flags.count("no-augment")) config.data.augment = false;
  if (flags.count("epochs")) config.train.epochs = flags["epochs"].as<int64_t>();
  if (flags.count("batch-size")) config.train.batch_size = flags["batch-size"].as<int64_t>();
  if (flags.count("bn-batch")) config.train.bn_batch = flags["bn-batch"].as<int64_t>();
  if (flags.count("lr")) config.train.lr = flags["lr"].as<double>();
  if (flags.count("device")) config.train.device = flags["device"].as<std::string>();
  if (flags.count("amp")) config.train.amp = flags["amp"].as<std::string>();
  if (flags.count("channels-last")) config.train.channels_last = parse_channels_last_flag(flags["channels-last"].as<std::string>());
  if (flags.count("cuda-graph")) config.train.cuda_graph = true;
  if (flags.count("deterministic")) config.train.deterministic = true;
  if (flags.count("threads")) config.train.threads = flags["threads"].as<int64_t>();
  if (flags.count("seeds")) config.seeds = parse_seed_list(flags["seeds"].as<std::string>());
  validate(config, source);
  return config;
}

// validate() already matched the network to the data set's name; this catches files that disagree.
void check_data_shape(const ExperimentConfig& config, const data::Dataset& dataset) {
  TORCH_CHECK(config.network.num_classes == dataset.num_classes() && config.network.in_channels == dataset.channels,
              config.data.dataset, ": the files hold ", dataset.num_classes(), " classes of ", dataset.channels,
              "-channel images, but the network expects ", config.network.num_classes, " classes of ",
              config.network.in_channels, "-channel images");
}

void prepare_run_folder(const std::filesystem::path& run_dir, const ExperimentConfig& config, bool restart) {
  const auto config_path = run_dir / "config.json";
  if (restart && std::filesystem::exists(run_dir)) {
    for (const auto& entry : std::filesystem::directory_iterator(run_dir)) {
      if (entry.path().filename().string().rfind("seed-", 0) == 0) std::filesystem::remove_all(entry.path());
    }
    std::filesystem::remove(run_dir / "summary.json");
  } else if (std::filesystem::exists(config_path)) {
    std::ifstream in(config_path);
    const auto old_config = comparable(nlohmann::json::parse(in));
    const auto new_config = comparable(nlohmann::json::parse(to_json(config)));
    if (old_config != new_config) {
      throw UsageError("the run folder \"" + run_dir.string() + "\" holds a different experiment: " +
                       first_difference(old_config, new_config) +
                       "; pass --restart to discard it, or --name/--out for a new run folder");
    }
  }
  std::filesystem::create_directories(run_dir);
  auto resolved = nlohmann::json::parse(to_json(config));
  resolved["environment"] = environment();
  write_file_atomically(config_path, resolved.dump(2) + "\n");
}

// cuda:<local rank> for a data-parallel rank whose config says "auto" or "cuda" (one GPU per rank;
// modulo the visible devices, for launchers that pin each rank to its GPU with CUDA_VISIBLE_DEVICES).
c10::Device rank_device(const c10::Device& device, const std::string& requested, const dist::LaunchEnv& launch) {
  if (!launch.distributed() || !device.is_cuda() || (requested != "auto" && requested != "cuda")) return device;
  const int64_t count = std::max<int64_t>(1, static_cast<int64_t>(torch::cuda::device_count()));
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(launch.local_rank % count));
}

// Runs `setup` on rank 0 only; every rank learns whether it worked, so that the others exit with a
// clear message instead of waiting for rank 0 until the timeout.
void on_rank0_agreed(dist::Group* group, const c10::Device& device, const std::function<void()>& setup) {
  if (group == nullptr) return setup();
  std::exception_ptr error;
  if (group->rank() == 0) {
    try {
      setup();
    } catch (...) {
      error = std::current_exception();
    }
  }
  at::Tensor failed = at::full({1}, error ? 1.0 : 0.0, at::TensorOptions().device(device));
  group->allreduce_sum(failed);
  if (error) std::rethrow_exception(error);
  TORCH_CHECK(failed.item<double>() == 0, "rank 0 could not prepare the run folder (see its error); rank ",
              group->rank(), " stops too");
}

}  // namespace

int train_command(int argc, char** argv) {
  return run_reporting_errors("train", [&] {
    cxxopts::Options options("propnet train",
                             "Train a network of the paper with its protocol (Nesterov SGD, lr 0.1 dropped x0.1 at 1/2, "
                             "3/4 and 7/8 of the epochs, batch 64, 400 epochs) over several seeds; reports mean ± std.\n"
                             "Re-running the same command resumes: finished seeds are skipped, interrupted ones continue.");
    add_network_flags(options);
    options.add_options("Experiment")
        ("config", "JSON experiment config (configs/README.md lists every key)", cxxopts::value<std::string>())
        ("set", "override a config key: --set train.lr=0.05 (repeatable)", cxxopts::value<std::vector<std::string>>())
        ("seeds", "seeds to run, e.g. 0-4 or 0,2,5 (one process per seed: --seeds k)", cxxopts::value<std::string>())
        ("out", "root folder of run folders (default runs)", cxxopts::value<std::string>())
        ("name", "run folder name (default <net>-<depth>-<variant>-<dataset>)", cxxopts::value<std::string>())
        ("resume", "continue the run folder's seeds where they stopped (the default; skips finished seeds)")
        ("restart", "discard the run folder's seeds instead of resuming them");
    options.add_options("Data")
        ("dataset", "cifar10, cifar100 or fashion-mnist (Fashion-MNIST is 28x28, zero-padded to 32x32)", cxxopts::value<std::string>())
        ("data-dir", "data folder (default for fashion-mnist: /usr/share/datasets/fashion-mnist)", cxxopts::value<std::string>())
        ("coarse", "CIFAR-100: the 20 coarse labels")
        ("subset", "train on the first N training images only (quick checks)", cxxopts::value<int64_t>())
        ("test-subset", "evaluate on the first N test images only", cxxopts::value<int64_t>())
        ("no-augment", "no pad-crop-flip augmentation");
    options.add_options("Training")
        ("epochs", "epochs (default 400; the lr drops keep their 1/2, 3/4, 7/8 positions)", cxxopts::value<int64_t>())
        ("batch-size", "batch size (default 64; with several ranks the global batch, see train.batch_scope)", cxxopts::value<int64_t>())
        ("bn-batch", "BN statistics over interleaved chunks of at most N images of each batch (ghost BN; "
                     "default 0 = whole batch)", cxxopts::value<int64_t>())
        ("lr", "initial learning rate (default 0.1)", cxxopts::value<double>())
        ("device", "auto, cpu, cuda or cuda:N (default auto)", cxxopts::value<std::string>())
        ("amp", "CUDA mixed precision: off, bf16 or fp16 (loss-scaled)", cxxopts::value<std::string>())
        ("channels-last", kChannelsLastHelp, cxxopts::value<std::string>()->implicit_value("on"))
        ("cuda-graph", "capture the training and test steps as CUDA graphs and replay them (CUDA)")
        ("deterministic", "deterministic cuDNN algorithms")
        ("threads", "CPU threads (default: every core, shared out between the ranks of a machine)", cxxopts::value<int64_t>())
        ("dist-timeout", "data-parallel runs: seconds a rank waits for the others (rendezvous and every "
                         "collective) before it fails (default 600)", cxxopts::value<double>())
        ("q,quiet", "only warnings, errors and the result")
        ("v,verbose", "every progress reading as a log line")
        ("h,help", "show this help");
    const auto flags = options.parse(argc, argv);
    if (flags.count("help")) {
      std::cout << options.help({"", "Experiment", "Data", "Training", "Network"})
                << "\nExamples:\n"
                   "  propnet train --net preresnet --depth 20 --variant proportional --dataset fashion-mnist --epochs 3 --seeds 0-2\n"
                   "  propnet train --config configs/paper/table2/preresnet-110-proportional-c100.json --data-dir data/cifar-100-binary\n"
                   "  torchrun --no_python --nproc_per_node 2 $(which propnet) train --config ...   (data parallel; see README)\n"
                   "Exit codes: 0 done, 1 runtime failure or a failed seed, 2 bad usage or config, 130/143 interrupted.\n";
      return kExitOk;
    }
    if (!flags.unmatched().empty()) throw UsageError("unexpected argument \"" + flags.unmatched().front() + "\"");
    const Verbosity verbosity = flags.count("quiet") ? Verbosity::kQuiet
                                : flags.count("verbose") ? Verbosity::kVerbose
                                                         : Verbosity::kNormal;

    if (flags.count("resume") && flags.count("restart")) throw UsageError("--resume and --restart are exclusive");
    ExperimentConfig config = resolve_config(flags);
    const dist::LaunchEnv launch = dist::detect_launch();
    if (launch.distributed() && config.train.cuda_graph) {
      throw UsageError("train.cuda_graph: expected false in a data-parallel run (got true with " +
                       std::to_string(launch.world_size) + " ranks); the gradient all-reduce runs eagerly");
    }
    const double timeout_s = flags.count("dist-timeout") ? flags["dist-timeout"].as<double>() : 600.0;
    if (!(timeout_s > 0)) throw UsageError("--dist-timeout: expected seconds > 0 (got " + std::to_string(timeout_s) + ")");
    const c10::Device device = rank_device(train::resolve_device(config.train.device), config.train.device, launch);
    int64_t thread_request = config.train.threads;
    if (launch.distributed() && device.is_cpu() && thread_request == 0) {  // share the cores between local ranks
      const int64_t cores = std::max<int64_t>(1, static_cast<int64_t>(std::thread::hardware_concurrency()));
      thread_request = std::max<int64_t>(1, cores / launch.local_world_size);
    }
    const int64_t threads = configure_threads(thread_request);
    std::shared_ptr<dist::Group> group;
    if (launch.distributed()) {
      dist::GroupOptions group_options;
      group_options.timeout = std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
      group = dist::Group::create(launch, device, group_options);
    }
    const bool rank0 = launch.rank == 0;
    const Verbosity shown = rank0 ? verbosity : Verbosity::kQuiet;  // other ranks: warnings and errors only
    const std::string data_dir = config.data.dir.empty() ? data::default_data_dir(config.data.dataset) : config.data.dir;
    if (data_dir.empty()) {
      throw UsageError(config.data.dataset + " needs --data-dir (or data.dir); scripts/download_cifar.sh fetches it");
    }
    const data::Dataset dataset = data::load_dataset(
        config.data.dataset, data_dir, data::DatasetOptions().coarse_labels(config.data.coarse_labels).device(device));
    check_data_shape(config, dataset);

    const std::filesystem::path run_dir = std::filesystem::path(config.out) / run_name(config);
    on_rank0_agreed(group.get(), device, [&] { prepare_run_folder(run_dir, config, flags.count("restart") > 0); });
    ProgressReporter reporter(shown);
    if (shown != Verbosity::kQuiet) {
      // " (2 threads, channels_last)": what the device runs that changes speed, not results.
      std::string device_notes = device.is_cpu() ? std::to_string(threads) + " threads" : "";
      if (train::resolve_channels_last(config.train.channels_last, device)) {
        device_notes += device_notes.empty() ? "channels_last" : ", channels_last";
      }
      if (!device_notes.empty()) device_notes = " (" + device_notes + ")";
      log::info(fmt::format("run {}: {}-{} {} on {} ({} train / {} test images), {} epochs, seeds {}, device {}{}", run_dir.string(),
                   config.network.arch, config.network.depth,
                   config.network.relu_mask.empty() ? config.network.variant : config.network.relu_mask,
                   config.data.dataset, config.data.subset ? std::min(config.data.subset, dataset.train.size()) : dataset.train.size(),
                   config.data.test_subset ? std::min(config.data.test_subset, dataset.test.size()) : dataset.test.size(),
                   config.train.epochs, nlohmann::json(config.seeds).dump(), device.str(),
                   device_notes));
      if (group) {
        log::info(fmt::format("data parallel: {} ranks ({}, {}), {} images per rank and step, {}", launch.world_size,
                              launch.launcher, group->backend(),
                              config.train.batch_scope == "global" ? config.train.batch_size / launch.world_size
                                                                   : config.train.batch_size,
                              dist::describe(launch)));
      }
    }

    install_stop_handlers();
    bool any_failed = false;
    for (int64_t seed : config.seeds) {
      const train::SeedFiles files(run_dir / ("seed-" + std::to_string(seed)));
      if (rank0) {
        std::filesystem::create_directories(files.dir);
        std::filesystem::remove(files.dir / kFailedMarker);  // a failed seed is retried from its last good checkpoint
        reporter.begin_seed(files.dir / "train.log");
      }
      reporter.message("seed " + std::to_string(seed) + ": training into " + files.dir.string());
      train::TrainerHooks hooks;
      hooks.on_progress = [&](const train::StepProgress& p) { reporter.progress(p); };
      hooks.on_epoch = [&](const train::EpochMetrics& m) { reporter.epoch(m, config.train.epochs); };
      hooks.stop_requested = [] { return stop_signal() != 0; };
      hooks.on_message = [&](const std::string& text) { reporter.message(text); };
      const train::SeedResult result = train::train_seed(config, seed, dataset, device, files, hooks, group);
      if (rank0) reporter.end_seed();
      if (result.status == train::SeedStatus::kFailed) {
        any_failed = true;
        if (rank0) std::ofstream(files.dir / kFailedMarker) << result.message << "\n";
        reporter.warn("seed " + std::to_string(seed) + " failed: " + result.message + "; going on with the next seed");
        continue;
      }
      if (result.status == train::SeedStatus::kStopped) {
        if (rank0) {
          write_run_summary(run_dir, config);
          log::warn(fmt::format("seed {} {}; checkpoint written. Resume with:\n  {}{}", seed, result.message,
                                group ? "<the same launch of> " : "", shell_command(argc, argv)));
        }
        if (group) group->barrier();
        return 128 + (stop_signal() != 0 ? stop_signal() : 2);  // a rank stopped by another's signal: as SIGINT
      }
      reporter.message(fmt::format("seed {} done: final test accuracy {:.2f}%", seed, result.final_test_acc()));
    }
    if (rank0) {
      const std::string line = write_run_summary(run_dir, config);
      std::cout << run_dir.string() << ": " << line << "\n";
    }
    if (group) group->barrier();  // every rank leaves once rank 0 has written the summary
    return any_failed ? kExitFailure : kExitOk;
  });
}

}  // namespace propnet::cli
