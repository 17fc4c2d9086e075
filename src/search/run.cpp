// One search seed: the random / exhaustive masks, or the gates and greedy searches trained by the
// Trainer (include/propnet/search/run.h).
#include <propnet/search/run.h>

#include <chrono>
#include <cmath>
#include <cstdio>

#include <torch/utils.h>

#include <propnet/models/network.h>
#include <propnet/models/network_mask.h>
#include <propnet/train/device.h>

namespace propnet::search {
namespace {

std::string fixed(double value, int digits) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", digits, value);
  return text;
}

double total_seconds(const std::vector<train::EpochMetrics>& metrics) {
  double s = 0;
  for (const auto& m : metrics) s += m.seconds;
  return s;
}

// The Trainer's options of a search seed: the config's, with the run's device, folder, group and hooks.
train::TrainerOptions search_trainer_options(const ExperimentConfig& config, const SearchRunOptions& run,
                                             std::shared_ptr<train::StepHook> hook) {
  train::TrainerOptions o = train::trainer_options(config, run.seed);
  o.device = run.device;
  o.dir = run.dir;
  o.group = run.group;
  o.hooks = run.hooks;
  o.hooks.step = std::move(hook);
  return o;
}

void message(const SearchRunOptions& run, const std::string& text) {
  if (run.hooks.on_message) run.hooks.on_message(text);
}

// The result's status and message; true when the training finished.
bool finished_training(const train::SeedResult& r, SearchResult& out) {
  out.status = r.status;
  out.message = r.message;
  out.metrics = r.metrics;
  return r.status == train::SeedStatus::kDone;
}

GateSearchOptions gate_options(const ExperimentConfig& config, const SearchPlan& plan, const SearchRunOptions& run) {
  const SearchSpec& s = config.search;
  GateSearchOptions knobs;
  knobs.budget = plan.budget.sites;
  knobs.elements = plan.budget.elements;
  knobs.epochs = config.train.epochs;
  knobs.warmup_epochs = static_cast<int64_t>(std::floor(s.warmup_fraction * static_cast<double>(knobs.epochs)));
  knobs.freeze_epochs = static_cast<int64_t>(std::floor(s.freeze_fraction * static_cast<double>(knobs.epochs)));
  knobs.score_every = s.score_every;
  knobs.reselect_every = s.reselect_every;
  knobs.score_batch = s.score_batch;
  knobs.beta = s.beta;
  knobs.hysteresis = s.hysteresis;
  knobs.seed = static_cast<uint64_t>(run.seed);
  knobs.group = run.group;
  return knobs;
}

void run_gates(const ExperimentConfig& config, const SearchPlan& plan, const data::Dataset& data,
               const SearchRunOptions& run, SearchResult& out) {
  torch::manual_seed(static_cast<uint64_t>(run.seed));  // the initial weights derive from the seed, as in train
  GatedNetwork gated{models::Network(config.network)};
  const GateSearchOptions knobs = gate_options(config, plan, run);
  auto hook = std::make_shared<GateSearch>(gated, data.val, plan.space, knobs);
  SearchRunOptions shown = run;
  shown.hooks.on_epoch = [&](const train::EpochMetrics& m) {
    if (run.hooks.on_epoch) run.hooks.on_epoch(m);
    message(run, "mask " + hook->mask().to_string() + "  (" + std::to_string(hook->mask().relus()) + " kept, " +
                     std::to_string(hook->changes_this_epoch()) + " changed this epoch)");
  };
  const train::SeedResult r = train::Trainer(gated, data, search_trainer_options(config, shown, hook)).run();
  if (!finished_training(r, out)) return;
  out.masks = {hook->mask()};
  out.scores = hook->scores();
  out.trajectory = hook->trajectory();
  out.score_steps = hook->score_steps();
  out.val_images_scored = hook->val_images();
  out.warmup_epochs = knobs.warmup_epochs;
  out.freeze_epochs = knobs.freeze_epochs;
  out.wall_seconds = total_seconds(r.metrics);
}

void run_greedy(const ExperimentConfig& config, const SearchPlan& plan, const data::Dataset& data,
                const SearchRunOptions& run, SearchResult& out) {
  torch::manual_seed(static_cast<uint64_t>(run.seed));
  GatedNetwork gated{models::Network(config.network)};  // every ReLU of the space kept
  const train::SeedResult r = train::Trainer(gated, data, search_trainer_options(config, run, nullptr)).run();
  if (!finished_training(r, out)) return;
  message(run, "trained with every ReLU of the space (val acc " + fixed(r.metrics.back().val_acc, 2) +
                   "%); removing sites one at a time");
  GreedyOptions o;
  o.budget = plan.budget.sites;
  o.elements = plan.budget.elements;
  o.batches = config.search.greedy_batches;
  o.batch_size = config.search.score_batch;
  o.seed = static_cast<uint64_t>(run.seed);
  o.channels_last = train::resolve_channels_last(config.train.channels_last,
                                                 train::resolve_device(run.device ? run.device : config.train.device));
  const std::vector<std::string> names = models::site_names(config.network);
  const auto start = std::chrono::steady_clock::now();
  out.greedy = greedy_removal(gated, data.val, data::Normalizer(data.mean, data.std), plan.space, o,
                              [&](const GreedyRound& round) {
                                message(run, "removed " + names.at(static_cast<size_t>(round.removed)) + " (val loss " +
                                                 fixed(round.val_loss, 4) + ")");
                              });
  out.greedy_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  out.masks = {out.greedy.mask};
  out.scores = out.greedy.first_costs;
  out.wall_seconds = total_seconds(r.metrics) + out.greedy_seconds;
}

}  // namespace

double SearchResult::final_val_loss() const {
  if (method == SearchMethod::kGreedy) return greedy.rounds.empty() ? greedy.base_loss : greedy.rounds.back().val_loss;
  return metrics.empty() ? 0.0 : metrics.back().val_loss;
}

SearchResult run(const ExperimentConfig& config, const SearchPlan& plan, const data::Dataset& data,
                 const SearchRunOptions& options) {
  SearchResult out;
  out.method = config.search.method;
  out.seed = options.seed;
  switch (config.search.method) {
    case SearchMethod::kRandom:
    case SearchMethod::kExhaustive: {
      const std::vector<ReluMask> masks =
          config.search.method == SearchMethod::kRandom
              ? random_masks(plan.space.stages, plan.budget.sites, config.search.count,
                             static_cast<uint64_t>(options.seed))
              : exhaustive_masks(plan.space.stages, plan.budget.sites, config.search.max);
      out.masks_with_budget = count_masks(plan.space.stages, plan.budget.sites);
      for (const ReluMask& m : masks) out.masks.push_back(plan.space.expand(m));
      return out;
    }
    case SearchMethod::kGates:
      run_gates(config, plan, data, options, out);
      break;
    case SearchMethod::kGreedy:
      run_greedy(config, plan, data, options, out);
      break;
  }
  out.train_images = data.train.size();
  out.val_images = data.val.size();
  return out;
}

}  // namespace propnet::search
