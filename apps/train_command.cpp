// `propnet train`: the paper's protocol over several seeds, resumable, with mean ± std at the end.
#include <iostream>

#include <cxxopts.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <propnet/choices.h>
#include <propnet/config.h>
#include <propnet/data/dataset.h>
#include <propnet/experiment/run_folder.h>
#include <propnet/models/network_mask.h>
#include <propnet/train/trainer.h>

#include "cli.h"
#include "config_flags.h"
#include "dist_setup.h"
#include "experiment_setup.h"
#include "progress.h"
#include "seed_session.h"

namespace propnet::cli {
namespace {

FlagSelection experiment_flags() {
  return {{flag_groups::kNetwork, flag_groups::kSwitches, flag_groups::kExperiment, flag_groups::kData,
           flag_groups::kTraining},
          {}};
}

constexpr const char* kTrainDescription =
    "Train a network of the paper with its protocol (Nesterov SGD, lr 0.1 dropped x0.1 at 1/2, 3/4 and 7/8 of the "
    "optimizer steps, batch 64, 400 epochs) over several seeds; reports mean ± std.\n"
    "Re-running the same command resumes: finished seeds are skipped, interrupted ones continue.";
constexpr const char* kTrainExamples =
    "\nExamples:\n"
    "  propnet train --net preresnet --depth 20 --variant proportional --dataset fashion-mnist --epochs 3 --seeds 0-2\n"
    "  propnet train --config configs/paper/table2/preresnet-110-proportional-c100.json --data-dir data/cifar-100-binary\n"
    "  torchrun --no_python --nproc_per_node 2 $(which propnet) train --config ...   (data parallel; see docs/distributed.md)\n"
    "Exit codes: 0 done, 1 runtime failure or a failed seed, 2 bad usage or config, 130/143 interrupted.\n";

// "run runs/x: preresnet-20 proportional on fashion-mnist (60000 train / 10000 test images), 3 epochs, ..."
std::string run_line(const ExperimentConfig& config, const data::Dataset& data, const Launch& launch,
                     const std::filesystem::path& run_dir) {
  const auto capped = [](int64_t subset, int64_t size) { return subset ? std::min(subset, size) : size; };
  const models::NetworkSpec& net = config.network;
  return fmt::format("run {}: {}-{} {} on {} ({} train / {} test images), {} epochs, seeds {}, device {}{}",
                     run_dir.string(), net.arch, net.depth, models::mask_text(net),
                     to_string(config.data.dataset), capped(config.data.subset, data.train.size()),
                     capped(config.data.test_subset, data.test.size()), config.train.epochs,
                     nlohmann::json(config.seeds).dump(), launch.device.str(),
                     device_notes(config, launch.device, launch.threads));
}

}  // namespace

int train_command(int argc, char** argv) {
  return run_reporting_errors("train", [&] {
    cxxopts::Options options("propnet train", kTrainDescription);
    add_run_flags(options, experiment_flags(), "JSON experiment config (configs/README.md lists every key)",
                  "train.lr=0.05");
    const auto flags = parse_flags(options, argc, argv);
    if (flags.count("help")) {
      std::cout << options.help({"", flag_groups::kExperiment, flag_groups::kData, flag_groups::kTraining,
                                 flag_groups::kNetwork, flag_groups::kSwitches})
                << kTrainExamples;
      return kExitOk;
    }
    check_run_flags(flags);
    ExperimentConfig config = resolve_config(flags, experiment_flags(), "train");
    config.search = {};  // the search section is propnet search's; a train run folder does not record it
    if (print_config_if_asked(flags, config, run_name(config))) return kExitOk;
    Launch launch = start_launch(config);
    connect(launch, flags);
    if (launch.rank0()) warn_about_cpu_precision(config.train, launch.device);
    ProgressReporter reporter(launch.rank0() ? verbosity_of(flags) : Verbosity::kQuiet);  // other ranks: warnings
    const data::Dataset dataset = load_experiment_data(config, launch.device);
    const experiment::RunFolder folder(std::filesystem::path(config.out) / run_name(config),
                                       experiment::RunFolder::Kind::kTraining);
    on_rank0_agreed(launch.group.get(), launch.device, [&] { folder.prepare(config, flags.count("restart") > 0); });
    reporter.message(run_line(config, dataset, launch, folder.dir()));
    if (launch.group) {
      const int64_t per_rank = config.train.batch_scope == BatchScope::kGlobal
                                   ? config.train.batch_size / launch.env.world_size : config.train.batch_size;
      reporter.message(launch.describe(fmt::format("{} images per rank and step, ", per_rank)));
    }

    const auto train_one = [&](int64_t seed) {
      reporter.message("seed " + std::to_string(seed) + ": training into " + folder.seed_dir(seed).string());
      const train::SeedResult r =
          train::train_seed(config, seed, dataset, launch.device, train::SeedFiles(folder.seed_dir(seed)),
                            reporter_hooks(reporter, config.train.epochs), launch.group);
      if (r.status == train::SeedStatus::kDone) {
        reporter.message(fmt::format("seed {} done: final test accuracy {:.2f}%", seed, r.final_test_acc()));
      }
      return experiment::SeedOutcome{r.status, r.message};
    };
    const SeedSession session{"train", "seed", "train.log", [&] {
                                return folder.dir().string() + ": " + folder.write_summary(config).line();
                              }};
    return run_session(session, folder, config.seeds, launch, reporter, train_one, argc, argv);
  });
}

}  // namespace propnet::cli
