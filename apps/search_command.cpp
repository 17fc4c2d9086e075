// `propnet search`: which ReLU sites to keep under a budget (README: Searching masks). One seed
// folder per search seed, each with search.json and mask.txt (masks.txt for random/exhaustive);
// gates and greedy train through the Trainer, so progress, checkpoints, SIGINT and resume are train's.
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>

#include <cxxopts.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/utils.h>

#include <propnet/choices.h>
#include <propnet/config.h>
#include <propnet/data/dataset.h>
#include <propnet/dist/launch.h>
#include <propnet/models/network.h>
#include <propnet/models/network_mask.h>
#include <propnet/runtime.h>
#include <propnet/search/gate_search.h>
#include <propnet/search/greedy.h>
#include <propnet/search/masks.h>
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
#include "search_output.h"
#include "signals.h"

namespace propnet::cli {
namespace {

FlagSelection search_flags() {
  return {{flag_groups::kNetwork, flag_groups::kSwitches, flag_groups::kData, flag_groups::kTraining,
           flag_groups::kSearch},
          {"name", "out"}};
}

// The budget in the units the methods take, from the one of search.keep / keep_fraction / relu_budget given.
struct Budget {
  search::MaskBudget sites;
  search::ElementBudget elements;  // max_elements > 0: an element budget
  std::string label;               // run folder suffix: "k9", "f0.5", "e90112"
};

Budget make_budget(const ExperimentConfig& config, const search::SearchSpace& space, const nlohmann::json& table) {
  const SearchSpec& s = config.search;
  if (s.keep == 0 && s.keep_fraction == 0 && s.relu_budget == 0) {
    throw UsageError("give a budget: --keep K (sites), --keep-fraction F or --relu-budget E (ReLU elements per image; "
                     "propnet info --sites counts them)");
  }
  Budget b;
  b.sites.min_keep_per_stage = s.min_keep_per_stage;
  b.elements.min_keep_per_stage = s.min_keep_per_stage;
  if (s.relu_budget > 0) {
    const int64_t fixed = table["fixed_relu_elements"].get<int64_t>();
    if (s.relu_budget <= fixed) {
      throw UsageError(fmt::format("--relu-budget {}: the stem's and head's ReLUs alone take {} elements per image; "
                                   "give more", s.relu_budget, fixed));
    }
    b.elements.max_elements = s.relu_budget - fixed;  // the budget counts all ReLUs, as info --sites does
    for (const auto& site : table["sites"]) b.elements.elements.push_back(site["elements"].get<int64_t>());
    b.label = "e" + std::to_string(s.relu_budget);
    search::ElementBudget minimum = b.elements;  // what the stage minimum costs, checked before any training
    minimum.elements = space.gather(b.elements.elements);
    search::select_mask_within(std::vector<double>(space.sites.size(), 0.0), space.stages, minimum);
    return b;
  }
  b.sites.keep = s.keep > 0 ? s.keep : search::keep_for_fraction(space.size(), s.keep_fraction);
  b.label = s.keep > 0 ? "k" + std::to_string(s.keep) : fmt::format("f{:g}", s.keep_fraction);
  if (b.sites.keep > space.size()) {
    throw UsageError(fmt::format("--keep {}: the search space has only {} sites (those the network's variant or mask "
                                 "keeps)", b.sites.keep, space.size()));
  }
  search::check_budget(space.stages, b.sites);
  return b;
}

bool needs_training(SearchMethod m) { return m == SearchMethod::kGates || m == SearchMethod::kGreedy; }

// Training images after subset and validation hold-out; the test split is dropped so that no search reads it.
data::Dataset search_data(const ExperimentConfig& config, const data::Dataset& loaded) {
  data::Dataset d = loaded;
  d.train = loaded.train.head(config.data.subset);
  d.test = {};
  return data::hold_out_validation(std::move(d), config.data.val_split);
}

nlohmann::json epochs_json(const std::vector<train::EpochMetrics>& metrics,
                           const std::vector<search::EpochMask>* trajectory) {
  nlohmann::json rows = nlohmann::json::array();
  for (size_t i = 0; i < metrics.size(); ++i) {
    const train::EpochMetrics& m = metrics[i];
    nlohmann::json row{{"epoch", m.epoch},       {"lr", m.lr},           {"train_loss", m.train_loss},
                       {"train_acc", m.train_acc}, {"val_loss", m.val_loss}, {"val_acc", m.val_acc},
                       {"seconds", m.seconds}};
    if (trajectory != nullptr && i < trajectory->size()) {
      row["relu_mask"] = (*trajectory)[i].mask;
      row["hamming"] = (*trajectory)[i].hamming;
    }
    rows.push_back(row);
  }
  return rows;
}

double total_seconds(const std::vector<train::EpochMetrics>& metrics) {
  double s = 0;
  for (const auto& m : metrics) s += m.seconds;
  return s;
}

// The seed's training run (gates: with the search hook; greedy: the network it then prunes).
struct TrainingRun {
  train::SeedResult result;
  double seconds = 0;
};

class SearchRunner {
 public:
  SearchRunner(const ExperimentConfig& config, c10::Device device, ProgressReporter& reporter,
               std::shared_ptr<dist::Group> group)
      : config_(config),
        device_(device),
        group_(std::move(group)),
        reporter_(reporter),
        table_(site_table(config.network)),
        space_(search::site_stages(config.network), models::resolve_network_mask(config.network)),
        budget_(make_budget(config, space_, table_)) {}

  const Budget& budget() const { return budget_; }
  const search::SearchSpace& space() const { return space_; }

  /// Throws what a seed's run would throw for a budget that yields no masks, before any folder is made.
  void check_masks() const {
    if (config_.search.method == SearchMethod::kRandom) {
      search::random_masks(space_.stages, budget_.sites, config_.search.count, 0);
    } else if (config_.search.method == SearchMethod::kExhaustive) {
      search::exhaustive_masks(space_.stages, budget_.sites, config_.search.max);
    }
  }

  void set_run_dir(std::filesystem::path run_dir) { run_dir_ = std::move(run_dir); }
  void set_data(const data::Dataset* data) { data_ = data; }
  void set_group(std::shared_ptr<dist::Group> group) { group_ = std::move(group); }

  // The seed's search.json, or nullopt when the training stopped (checkpoint written) or failed.
  std::optional<nlohmann::json> run(int64_t seed, train::SeedStatus& status, std::string& message) {
    nlohmann::json out = search_header(config_, seed);
    out["budget"] = budget_json();
    out["searchable_sites"] = space_.size();
    switch (config_.search.method) {
      case SearchMethod::kRandom:
      case SearchMethod::kExhaustive: {
        const std::vector<ReluMask> masks =
            config_.search.method == SearchMethod::kRandom
                ? search::random_masks(space_.stages, budget_.sites, config_.search.count, static_cast<uint64_t>(seed))
                : search::exhaustive_masks(space_.stages, budget_.sites, config_.search.max);
        out["masks_with_budget"] = search::count_masks(space_.stages, budget_.sites);
        out["masks"] = nlohmann::json::array();
        for (const ReluMask& m : masks) out["masks"].push_back(describe_network_mask(config_.network, space_.expand(m)));
        out["wall_seconds"] = 0;
        return out;
      }
      case SearchMethod::kGates:
        return run_gates(seed, out, status, message);
      case SearchMethod::kGreedy:
        return run_greedy(seed, out, status, message);
    }
    return std::nullopt;
  }

 private:
  nlohmann::json budget_json() const {
    if (budget_.elements.max_elements > 0) {
      return {{"relu_budget", config_.search.relu_budget}, {"min_keep_per_stage", budget_.elements.min_keep_per_stage}};
    }
    return {{"keep", budget_.sites.keep}, {"min_keep_per_stage", budget_.sites.min_keep_per_stage}};
  }

  train::TrainerOptions trainer_options(int64_t seed, const std::shared_ptr<train::StepHook>& hook,
                                        const std::function<void(const train::EpochMetrics&)>& on_epoch) const {
    train::TrainerOptions o;
    o.spec = config_.train;
    o.seed = seed;
    o.device = device_;
    o.dir = seed_dir(seed);
    o.augment = config_.data.augment;
    o.drop_last = config_.data.drop_last;
    o.checkpoint_config = to_json(config_);
    o.group = group_;
    o.hooks.on_progress = [this](const train::StepProgress& p) { reporter_.progress(p); };
    o.hooks.on_epoch = on_epoch;
    o.hooks.stop_requested = [] { return stop_signal() != 0; };
    o.hooks.on_message = [this](const std::string& text) { reporter_.message(text); };
    o.hooks.step = hook;
    return o;
  }

  std::filesystem::path seed_dir(int64_t seed) const { return run_dir_ / ("seed-" + std::to_string(seed)); }

  static bool finished(const train::SeedResult& r, train::SeedStatus& status, std::string& message) {
    status = r.status;
    message = r.message;
    return r.status == train::SeedStatus::kDone;
  }

  void add_common(nlohmann::json& out, const ReluMask& mask, const std::vector<train::EpochMetrics>& metrics) const {
    out.update(describe_network_mask(config_.network, mask));
    out["train_images"] = data_->train.size();
    out["val_images"] = data_->val.size();
    out["train_images_processed"] = data_->train.size() * static_cast<int64_t>(metrics.size());
  }

  std::optional<nlohmann::json> run_gates(int64_t seed, nlohmann::json& out, train::SeedStatus& status,
                                          std::string& message) {
    torch::manual_seed(static_cast<uint64_t>(seed));  // the initial weights derive from the seed, as in train
    search::GatedNetwork gated{models::Network(config_.network)};
    const SearchSpec& s = config_.search;
    search::GateSearchOptions knobs;
    knobs.budget = budget_.sites;
    knobs.elements = budget_.elements;
    knobs.epochs = config_.train.epochs;
    knobs.warmup_epochs = static_cast<int64_t>(std::floor(s.warmup_fraction * static_cast<double>(knobs.epochs)));
    knobs.freeze_epochs = static_cast<int64_t>(std::floor(s.freeze_fraction * static_cast<double>(knobs.epochs)));
    knobs.score_every = s.score_every;
    knobs.reselect_every = s.reselect_every;
    knobs.score_batch = s.score_batch;
    knobs.beta = s.beta;
    knobs.hysteresis = s.hysteresis;
    knobs.seed = static_cast<uint64_t>(seed);
    knobs.group = group_;
    auto hook = std::make_shared<search::GateSearch>(gated, data_->val, space_, knobs);
    std::string shown = hook->mask().to_string();
    const auto on_epoch = [&](const train::EpochMetrics& m) {
      reporter_.epoch(m, config_.train.epochs);
      const std::string now = hook->mask().to_string();
      int64_t changed = 0;
      for (size_t i = 0; i < now.size(); ++i) changed += now[i] != shown[i];
      reporter_.message(fmt::format("mask {}  ({} kept, {} changed this epoch)", now, hook->mask().relus(), changed));
      shown = now;
    };
    const train::SeedResult r = train::Trainer(gated, *data_, trainer_options(seed, hook, on_epoch)).run();
    if (!finished(r, status, message)) return std::nullopt;
    add_common(out, hook->mask(), r.metrics);
    out["scores"] = hook->scores();
    out["score_meaning"] = "per site, an EMA of -dL/dg over validation batches: the first-order benefit of its ReLU";
    out["epochs"] = epochs_json(r.metrics, &hook->trajectory());
    out["final_val_acc"] = r.metrics.back().val_acc;
    out["final_val_loss"] = r.metrics.back().val_loss;
    out["score_steps"] = hook->score_steps();
    out["val_images_scored"] = hook->val_images();
    out["warmup_epochs"] = knobs.warmup_epochs;
    out["freeze_epochs"] = knobs.freeze_epochs;
    out["wall_seconds"] = total_seconds(r.metrics);
    return out;
  }

  std::optional<nlohmann::json> run_greedy(int64_t seed, nlohmann::json& out, train::SeedStatus& status,
                                           std::string& message) {
    torch::manual_seed(static_cast<uint64_t>(seed));
    search::GatedNetwork gated{models::Network(config_.network)};  // every ReLU of the space kept
    const auto on_epoch = [&](const train::EpochMetrics& m) { reporter_.epoch(m, config_.train.epochs); };
    const train::SeedResult r = train::Trainer(gated, *data_, trainer_options(seed, nullptr, on_epoch)).run();
    if (!finished(r, status, message)) return std::nullopt;
    reporter_.message(fmt::format("trained with every ReLU of the space (val acc {:.2f}%); removing sites one at a time",
                                  r.metrics.back().val_acc));
    search::GreedyOptions o;
    o.budget = budget_.sites;
    o.elements = budget_.elements;
    o.batches = config_.search.greedy_batches;
    o.batch_size = config_.search.score_batch;
    o.seed = static_cast<uint64_t>(seed);
    o.channels_last = train::resolve_channels_last(config_.train.channels_last, device_);
    const auto names = models::site_names(config_.network);
    const auto start = std::chrono::steady_clock::now();
    const search::GreedyResult g = search::greedy_removal(
        gated, data_->val, data::Normalizer(data_->mean, data_->std), space_, o, [&](const search::GreedyRound& round) {
          reporter_.message(fmt::format("removed {} (val loss {:.4f})", names[static_cast<size_t>(round.removed)],
                                        round.val_loss));
        });
    const double greedy_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    add_common(out, g.mask, r.metrics);
    out["removal_costs"] = g.first_costs;
    out["score_meaning"] = "removal_costs: per site, how much removing it alone raised the validation loss of the "
                           "trained network (first round)";
    nlohmann::json rounds = nlohmann::json::array();
    for (const auto& round : g.rounds) {
      rounds.push_back({{"removed", names[static_cast<size_t>(round.removed)]}, {"val_loss", round.val_loss},
                        {"relu_mask", round.mask}});
    }
    out["base_val_loss"] = g.base_loss;
    out["rounds"] = rounds;
    out["final_val_loss"] = g.rounds.empty() ? g.base_loss : g.rounds.back().val_loss;
    out["epochs"] = epochs_json(r.metrics, nullptr);
    out["measurements"] = g.measurements;
    out["greedy_seconds"] = greedy_seconds;
    out["wall_seconds"] = total_seconds(r.metrics) + greedy_seconds;
    return out;
  }

  const ExperimentConfig& config_;
  std::filesystem::path run_dir_;
  c10::Device device_;
  std::shared_ptr<dist::Group> group_;  // data parallel: 2 or more ranks, else null
  ProgressReporter& reporter_;
  nlohmann::json table_;
  search::SearchSpace space_;
  Budget budget_;
  const data::Dataset* data_ = nullptr;
};

std::string search_folder_name(const ExperimentConfig& config, const Budget& budget) {
  if (!config.name.empty()) return config.name;
  return run_name(config) + "-search-" + to_string(config.search.method) + "-" + budget.label;
}

}  // namespace

int search_command(int argc, char** argv) {
  return run_reporting_errors("search", [&] {
    cxxopts::Options options(
        "propnet search",
        "Search which ReLU sites to keep under a budget (README: Searching masks). gates and greedy train on the "
        "training images and score on a validation split (--val-split); the test set is never read. Each search seed "
        "writes <run folder>/seed-<s>/search.json and mask.txt; retrain a found mask from scratch with\n"
        "  propnet train --relu-mask-file <run folder>/seed-0/search.json --seeds 0-4 ...\n"
        "Re-running the same command resumes: finished seeds are skipped, interrupted ones continue.");
    options.add_options(flag_groups::kExperiment)
        ("config", "JSON experiment config with a \"search\" section (configs/README.md)", cxxopts::value<std::string>())
        ("set", "override a config key: --set search.beta=0.9 (repeatable)", cxxopts::value<std::vector<std::string>>())
        ("resume", "continue the run folder's seeds where they stopped (the default)")
        ("restart", "discard the run folder's seeds instead of resuming them");
    add_config_flags(options, search_flags());
    options.add_options(flag_groups::kTraining)
        ("dist-timeout", "data-parallel searches: seconds a rank waits for the others before it fails (default 600)",
         cxxopts::value<double>())
        ("q,quiet", "only warnings, errors and the result")
        ("v,verbose", "every progress reading as a log line")
        ("h,help", "show this help");
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
    if (!flags.unmatched().empty()) throw UsageError("unexpected argument \"" + flags.unmatched().front() + "\"");
    if (flags.count("resume") && flags.count("restart")) throw UsageError("--resume and --restart are exclusive");
    const Verbosity verbosity = flags.count("quiet") ? Verbosity::kQuiet
                                : flags.count("verbose") ? Verbosity::kVerbose
                                                         : Verbosity::kNormal;
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
    if (launch.distributed() && config.train.cuda_graph) {
      throw UsageError("train.cuda_graph: expected false in a data-parallel run (got true with " +
                       std::to_string(launch.world_size) + " ranks); the gradient all-reduce runs eagerly");
    }
    const double timeout_s = flags.count("dist-timeout") ? flags["dist-timeout"].as<double>() : 600.0;
    if (!(timeout_s > 0)) throw UsageError("--dist-timeout: expected seconds > 0 (got " + std::to_string(timeout_s) + ")");
    const c10::Device device = rank_device(train::resolve_device(config.train.device), config.train.device, launch);
    const int64_t threads = configure_threads(rank_threads(config.train.threads, device, launch));
    const bool rank0 = launch.rank == 0;
    ProgressReporter reporter(rank0 ? verbosity : Verbosity::kQuiet);  // other ranks: warnings and errors only

    // The budget is checked before any data is read or any rank connects.
    SearchRunner runner(config, device, reporter, nullptr);
    runner.check_masks();
    const std::filesystem::path run_dir =
        std::filesystem::path(config.out) / search_folder_name(config, runner.budget());
    runner.set_run_dir(run_dir);
    const std::shared_ptr<dist::Group> group = make_group(launch, device, timeout_s);
    runner.set_group(group);
    std::optional<data::Dataset> data;
    if (needs_training(method)) {
      data = search_data(config, load_experiment_data(config, device));
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
