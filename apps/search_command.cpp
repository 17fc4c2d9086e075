// `propnet search`: which ReLU sites to keep under a budget (docs/search.md). One seed
// folder per search seed, each with search.json and mask.txt (masks.txt for random/exhaustive);
// gates and greedy train through the Trainer, so progress, checkpoints, SIGINT and resume are train's.
#include <fstream>
#include <iostream>

#include <cxxopts.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <propnet/choices.h>
#include <propnet/config.h>
#include <propnet/dist/launch.h>
#include <propnet/models/network_mask.h>
#include <propnet/runtime.h>
#include <propnet/train/device.h>

#include "cli.h"
#include "config_flags.h"
#include "dist_setup.h"
#include "experiment_setup.h"
#include "log.h"
#include "progress.h"
#include "run_folder.h"
#include "run_summary.h"
#include "search_output.h"
#include "search_runner.h"
#include "signals.h"

namespace propnet::cli {
namespace {

FlagSelection search_flags() {
  return {{flag_groups::kNetwork, flag_groups::kSwitches, flag_groups::kData, flag_groups::kTraining,
           flag_groups::kSearch},
          {"name", "out"}};
}

}  // namespace

int search_command(int argc, char** argv) {
  return run_reporting_errors("search", [&] {
    cxxopts::Options options(
        "propnet search",
        "Search which ReLU sites to keep under a budget (docs/search.md). gates and greedy train on the "
        "training images and score on a validation split (--val-split); the test set is never read. Each search seed "
        "writes <run folder>/seed-<s>/search.json and mask.txt; retrain a found mask from scratch with\n"
        "  propnet train --relu-mask-file <run folder>/seed-0/search.json --seeds 0-4 ...\n"
        "Re-running the same command resumes: finished seeds are skipped, interrupted ones continue.");
    add_run_flags(options, search_flags(), "JSON experiment config with a \"search\" section (configs/README.md)",
                  "search.beta=0.9");
    const auto flags = options.parse(argc, argv);
    if (flags.count("help")) {
      std::cout << options.help({"", flag_groups::kExperiment, flag_groups::kSearch, flag_groups::kData,
                                 flag_groups::kTraining, flag_groups::kNetwork, flag_groups::kSwitches})
                << "\nExamples:\n"
                   "  propnet search --net plain --depth 8 --method exhaustive --keep 3\n"
                   "  propnet search --net preresnet --depth 20 --dataset fashion-mnist --subset 10000 --val-split 2000 "
                   "--epochs 6 --keep 9 --search-seeds 0-2\n"
                   "  propnet search --net preresnet --depth 20 --method random --keep-fraction 0.5 --count 8\n"
                   "Exit codes: 0 done, 1 runtime failure or a failed seed, 2 bad usage or config, 130/143 interrupted.\n";
      return kExitOk;
    }
    check_run_flags(flags);
    const Verbosity verbosity = verbosity_of(flags);
    ExperimentConfig config = resolve_config(flags, search_flags(), "search");
    const SearchMethod method = config.search.method;
    if (needs_training(method) && config.data.val_split == 0) {
      throw UsageError("--method " + to_string(method) + " scores sites on held-out training images: give --val-split N "
                       "(e.g. --val-split 5000); the test set is never read by a search");
    }
    const dist::LaunchEnv launch = dist::detect_launch();
    if (launch.distributed() && !needs_training(method)) {
      throw UsageError("--method " + to_string(method) + " trains nothing: run it in one process, not data parallel");
    }
    check_launch(config, launch);
    const double timeout_s = dist_timeout_of(flags);
    const c10::Device device = rank_device(train::resolve_device(config.train.device), config.train.device, launch);
    const int64_t threads = configure_threads(rank_threads(config.train.threads, device, launch));
    const bool rank0 = launch.rank == 0;
    if (rank0 && needs_training(method)) warn_about_cpu_precision(config.train, device);
    ProgressReporter reporter(rank0 ? verbosity : Verbosity::kQuiet);  // other ranks: warnings and errors only

    // The budget is checked before any data is read or any rank connects.
    SearchRunner runner(config, device, reporter);
    runner.check_masks();
    const std::filesystem::path run_dir =
        std::filesystem::path(config.out) / search_folder_name(config, runner.budget());
    if (print_config_if_asked(flags, config, run_dir.filename().string())) return kExitOk;
    runner.set_run_dir(run_dir);
    const std::shared_ptr<dist::Group> group = make_group(launch, device, timeout_s);
    runner.set_group(group);
    std::optional<data::Dataset> data;
    if (needs_training(method)) {
      // A search never reads the test set, so a folder with only the training files will do.
      data = search_data(config, load_experiment_data(config, device, /*test_split=*/false));
      runner.set_data(&*data);
    }
    on_rank0_agreed(group.get(), device, [&] { prepare_run_folder(run_dir, config, flags.count("restart") > 0); });
    if (rank0 && verbosity != Verbosity::kQuiet) {
      const std::string budget = runner.budget().elements.max_elements > 0
                                     ? fmt::format("at most {} ReLU elements per image", config.search.relu_budget)
                                     : fmt::format("{} of {} sites", runner.budget().sites.keep, runner.space().size());
      std::string what = fmt::format("search {}: {} on {}-{} {}, keep {}, search seeds {}", run_dir.string(),
                                     to_string(method), config.network.arch, config.network.depth,
                                     models::describe_mask(config.network).variant, budget,
                                     nlohmann::json(config.search.seeds).dump());
      if (data) {
        what += fmt::format(", {} ({} train / {} validation images), {} epochs, device {}{}",
                            to_string(config.data.dataset), data->train.size(), data->val.size(), config.train.epochs,
                            device.str(), device_notes(config, device, threads));
      }
      log::info(what);
      if (group) {
        log::info(fmt::format("data parallel: {} ranks ({}, {}), {}; every rank scores the same validation batches",
                              launch.world_size, launch.launcher, group->backend(), dist::describe(launch)));
      }
    }

    install_stop_handlers();
    bool any_failed = false;
    for (int64_t seed : config.search.seeds) {
      const auto dir = run_dir / ("seed-" + std::to_string(seed));
      if (std::filesystem::exists(dir / "search.json")) {
        reporter.message("search seed " + std::to_string(seed) + " already finished; skipping");
        continue;
      }
      if (rank0) {
        std::filesystem::create_directories(dir);
        std::filesystem::remove(dir / kFailedMarker);
        reporter.begin_seed(dir / "search.log");
      }
      train::SeedStatus status = train::SeedStatus::kDone;
      std::string message;
      const std::optional<nlohmann::json> found = runner.run(seed, status, message);
      if (found && rank0) write_search_files(dir, *found);
      if (rank0) reporter.end_seed();
      if (group) group->barrier();  // every rank sees the seed's files before the next seed's check
      if (status == train::SeedStatus::kFailed) {
        any_failed = true;
        if (rank0) std::ofstream(dir / kFailedMarker) << message << "\n";
        reporter.warn("search seed " + std::to_string(seed) + " failed: " + message + "; going on with the next seed");
        continue;
      }
      if (status == train::SeedStatus::kStopped) {
        if (rank0) {
          write_search_summary(run_dir, config.search.seeds);
          log::warn(fmt::format("search seed {} {}; checkpoint written. Resume with:\n  {}{}", seed, message,
                                group ? "<the same launch of> " : "", shell_command("search", argc, argv)));
        }
        return 128 + (stop_signal() != 0 ? stop_signal() : 2);
      }
      if (found->contains("masks")) {
        reporter.message(fmt::format("search seed {}: {} masks in {}", seed, (*found)["masks"].size(),
                                     (dir / "masks.txt").string()));
      } else {
        reporter.message(fmt::format("search seed {}: {} ({} sites, {} ReLU elements per image) in {}", seed,
                                     (*found)["relu_mask"].get<std::string>(), (*found)["sites_kept"].get<int64_t>(),
                                     (*found)["relu_elements"].get<int64_t>(), (dir / "mask.txt").string()));
      }
    }
    if (rank0) std::cout << write_search_summary(run_dir, config.search.seeds).string() << "\n";
    if (group) group->barrier();  // every rank leaves once rank 0 has written the summary
    return any_failed ? kExitFailure : kExitOk;
  });
}

}  // namespace propnet::cli
