// `propnet search`: which ReLU sites to keep under a budget (docs/search.md). One seed folder per
// search seed, each with search.json and mask.txt (masks.txt for random/exhaustive); the library's
// `search::run` does the work, so progress, checkpoints, SIGINT and resume are train's.
#include <iostream>

#include <cxxopts.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <propnet/choices.h>
#include <propnet/config.h>
#include <propnet/models/network_mask.h>
#include <propnet/search/run.h>

#include "cli.h"
#include "config_flags.h"
#include "dist_setup.h"
#include "experiment_setup.h"
#include "search_output.h"
#include "search_setup.h"
#include "seed_session.h"

namespace propnet::cli {
namespace {

FlagSelection search_flags() {
  return {{flag_groups::kNetwork, flag_groups::kSwitches, flag_groups::kData, flag_groups::kTraining,
           flag_groups::kSearch},
          {"name", "out"}};
}

constexpr const char* kSearchDescription =
    "Search which ReLU sites to keep under a budget (docs/search.md). gates and greedy train on the training images "
    "and score on a validation split (--val-split); the test set is never read. Each search seed writes "
    "<run folder>/seed-<s>/search.json and mask.txt; retrain a found mask from scratch with\n"
    "  propnet train --relu-mask-file <run folder>/seed-0/search.json --seeds 0-4 ...\n"
    "Re-running the same command resumes: finished seeds are skipped, interrupted ones continue.";
constexpr const char* kSearchExamples =
    "\nExamples:\n"
    "  propnet search --net plain --depth 8 --method exhaustive --keep 3\n"
    "  propnet search --net preresnet --depth 20 --dataset fashion-mnist --subset 10000 --val-split 2000 "
    "--epochs 6 --keep 9 --search-seeds 0-2\n"
    "  propnet search --net preresnet --depth 20 --method random --keep-fraction 0.5 --count 8\n"
    "Exit codes: 0 done, 1 runtime failure or a failed seed, 2 bad usage or config, 130/143 interrupted.\n";

}  // namespace

int search_command(int argc, char** argv) {
  return run_reporting_errors("search", [&] {
    cxxopts::Options options("propnet search", kSearchDescription);
    add_run_flags(options, search_flags(), "JSON experiment config with a \"search\" section (configs/README.md)",
                  "search.beta=0.9");
    const auto flags = parse_flags(options, argc, argv);
    if (flags.count("help")) {
      std::cout << options.help({"", flag_groups::kExperiment, flag_groups::kSearch, flag_groups::kData,
                                 flag_groups::kTraining, flag_groups::kNetwork, flag_groups::kSwitches})
                << kSearchExamples;
      return kExitOk;
    }
    check_run_flags(flags);
    const ExperimentConfig config = resolve_config(flags, search_flags(), "search");
    const bool trains = search::needs_training(config.search.method);
    check_search(config, dist::detect_launch());
    const search::SearchPlan plan = search::plan_search(config);  // before any data is read or any rank connects
    const std::string name = search_folder_name(config, plan);
    if (print_config_if_asked(flags, config, name)) return kExitOk;
    Launch launch = start_launch(config);
    if (launch.rank0() && trains) warn_about_cpu_precision(config.train, launch.device);
    ProgressReporter reporter(launch.rank0() ? verbosity_of(flags) : Verbosity::kQuiet);  // other ranks: warnings
    connect(launch, flags);
    std::optional<data::Dataset> data;  // a search never reads the test set: the training files will do
    if (trains) data = search::search_data(config, load_experiment_data(config, launch.device, /*test_split=*/false));
    const experiment::RunFolder folder(std::filesystem::path(config.out) / name, experiment::RunFolder::Kind::kSearch);
    on_rank0_agreed(launch.group.get(), launch.device, [&] { folder.prepare(config, flags.count("restart") > 0); });
    reporter.message(search_line(config, plan, data, launch, folder.dir()));
    if (launch.group) reporter.message(launch.describe() + "; every rank scores the same validation batches");

    const auto search_one = [&](int64_t seed) {
      search::SearchRunOptions run{seed, launch.device, folder.seed_dir(seed), launch.group,
                                   reporter_hooks(reporter, config.train.epochs)};
      const search::SearchResult found = search::run(config, plan, data ? *data : data::Dataset{}, run);
      if (found.finished() && launch.rank0()) {
        write_search_files(folder, seed, found.method, search_json(config, plan, found));
      }
      if (found.finished()) reporter.message(found_line(config, found, mask_file(folder, seed, found.method)));
      return experiment::SeedOutcome{found.status, found.message};
    };
    const SeedSession session{"search", "search seed", "search.log",
                              [&] { return write_search_summary(folder, config.search.seeds).string(); }};
    return run_session(session, folder, config.search.seeds, launch, reporter, search_one, argc, argv);
  });
}

}  // namespace propnet::cli
