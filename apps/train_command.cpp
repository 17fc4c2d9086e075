// `propnet train`: the paper's protocol over several seeds, resumable, with mean ± std at the end.
#include <fstream>
#include <iostream>

#include <c10/util/Exception.h>
#include <cxxopts.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <propnet/choices.h>
#include <propnet/config.h>
#include <propnet/data/dataset.h>
#include <propnet/dist/group.h>
#include <propnet/models/network_mask.h>
#include <propnet/dist/launch.h>
#include <propnet/runtime.h>
#include <propnet/train/device.h>
#include <propnet/train/trainer.h>

#include "cli.h"
#include "config_flags.h"
#include "dist_setup.h"
#include "experiment_setup.h"
#include "log.h"
#include "progress.h"
#include "run_folder.h"
#include "run_summary.h"
#include "signals.h"

namespace propnet::cli {
namespace {

FlagSelection experiment_flags() {
  return {{flag_groups::kNetwork, flag_groups::kSwitches, flag_groups::kExperiment, flag_groups::kData,
           flag_groups::kTraining},
          {}};
}

}  // namespace

int train_command(int argc, char** argv) {
  return run_reporting_errors("train", [&] {
    cxxopts::Options options("propnet train",
                             "Train a network of the paper with its protocol (Nesterov SGD, lr 0.1 dropped x0.1 at 1/2, "
                             "3/4 and 7/8 of the optimizer steps, batch 64, 400 epochs) over several seeds; reports mean ± std.\n"
                             "Re-running the same command resumes: finished seeds are skipped, interrupted ones continue.");
    add_run_flags(options, experiment_flags(), "JSON experiment config (configs/README.md lists every key)",
                  "train.lr=0.05");
    const auto flags = options.parse(argc, argv);
    if (flags.count("help")) {
      std::cout << options.help({"", flag_groups::kExperiment, flag_groups::kData, flag_groups::kTraining,
                                 flag_groups::kNetwork, flag_groups::kSwitches})
                << "\nExamples:\n"
                   "  propnet train --net preresnet --depth 20 --variant proportional --dataset fashion-mnist --epochs 3 --seeds 0-2\n"
                   "  propnet train --config configs/paper/table2/preresnet-110-proportional-c100.json --data-dir data/cifar-100-binary\n"
                   "  torchrun --no_python --nproc_per_node 2 $(which propnet) train --config ...   (data parallel; see docs/distributed.md)\n"
                   "Exit codes: 0 done, 1 runtime failure or a failed seed, 2 bad usage or config, 130/143 interrupted.\n";
      return kExitOk;
    }
    check_run_flags(flags);
    const Verbosity verbosity = verbosity_of(flags);
    ExperimentConfig config = resolve_config(flags, experiment_flags(), "train");
    config.search = {};  // the search section is propnet search's; a train run folder does not record it
    if (print_config_if_asked(flags, config, run_name(config))) return kExitOk;
    const dist::LaunchEnv launch = dist::detect_launch();
    check_launch(config, launch);
    const double timeout_s = dist_timeout_of(flags);
    const c10::Device device = rank_device(train::resolve_device(config.train.device), config.train.device, launch);
    const int64_t threads = configure_threads(rank_threads(config.train.threads, device, launch));
    const std::shared_ptr<dist::Group> group = make_group(launch, device, timeout_s);
    const bool rank0 = launch.rank == 0;
    if (rank0) warn_about_cpu_precision(config.train, device);
    const Verbosity shown = rank0 ? verbosity : Verbosity::kQuiet;  // other ranks: warnings and errors only
    const data::Dataset dataset = load_experiment_data(config, device);

    const std::filesystem::path run_dir = std::filesystem::path(config.out) / run_name(config);
    on_rank0_agreed(group.get(), device, [&] { prepare_run_folder(run_dir, config, flags.count("restart") > 0); });
    ProgressReporter reporter(shown);
    if (shown != Verbosity::kQuiet) {
      log::info(fmt::format("run {}: {}-{} {} on {} ({} train / {} test images), {} epochs, seeds {}, device {}{}", run_dir.string(),
                   config.network.arch, config.network.depth,
                   config.network.relu_mask.empty() ? config.network.variant : config.network.relu_mask,
                   to_string(config.data.dataset), config.data.subset ? std::min(config.data.subset, dataset.train.size()) : dataset.train.size(),
                   config.data.test_subset ? std::min(config.data.test_subset, dataset.test.size()) : dataset.test.size(),
                   config.train.epochs, nlohmann::json(config.seeds).dump(), device.str(),
                   device_notes(config, device, threads)));
      if (group) {
        log::info(fmt::format("data parallel: {} ranks ({}, {}), {} images per rank and step, {}", launch.world_size,
                              launch.launcher, group->backend(),
                              config.train.batch_scope == BatchScope::kGlobal ? config.train.batch_size / launch.world_size
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
                                group ? "<the same launch of> " : "", shell_command("train", argc, argv)));
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
