#include "search_runner.h"

#include <chrono>
#include <cmath>

#include <fmt/format.h>
#include <torch/utils.h>

#include <propnet/choices.h>
#include <propnet/models/network.h>
#include <propnet/models/network_mask.h>
#include <propnet/search/gate_search.h>
#include <propnet/search/greedy.h>
#include <propnet/train/device.h>
#include <propnet/train/trainer.h>

#include "cli.h"
#include "search_output.h"
#include "signals.h"

namespace propnet::cli {
namespace {

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

}  // namespace

bool needs_training(SearchMethod m) { return m == SearchMethod::kGates || m == SearchMethod::kGreedy; }

data::Dataset search_data(const ExperimentConfig& config, const data::Dataset& loaded) {
  data::Dataset d = loaded;
  d.train = loaded.train.head(config.data.subset);
  d.test = {};
  return data::hold_out_validation(std::move(d), config.data.val_split);
}

std::string search_folder_name(const ExperimentConfig& config, const Budget& budget) {
  if (!config.name.empty()) return config.name;
  return run_name(config) + "-search-" + to_string(config.search.method) + "-" + budget.label;
}

struct SearchRunner::Impl {
  Impl(const ExperimentConfig& config, c10::Device device, ProgressReporter& reporter)
      : config_(config),
        device_(device),
        reporter_(reporter),
        table_(site_table(config.network)),
        space_(search::site_stages(config.network), models::resolve_network_mask(config.network)),
        budget_(make_budget(config, space_, table_)) {}


  void check_masks() const {
    if (config_.search.method == SearchMethod::kRandom) {
      search::random_masks(space_.stages, budget_.sites, config_.search.count, 0);
    } else if (config_.search.method == SearchMethod::kExhaustive) {
      search::exhaustive_masks(space_.stages, budget_.sites, config_.search.max);
    }
  }


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
  c10::Device device_;
  ProgressReporter& reporter_;
  std::shared_ptr<dist::Group> group_;  // data parallel: 2 or more ranks, else null
  nlohmann::json table_;
  search::SearchSpace space_;
  Budget budget_;
  std::filesystem::path run_dir_;
  const data::Dataset* data_ = nullptr;
};

SearchRunner::SearchRunner(const ExperimentConfig& config, c10::Device device, ProgressReporter& reporter)
    : impl_(std::make_unique<Impl>(config, device, reporter)) {}
SearchRunner::~SearchRunner() = default;
const Budget& SearchRunner::budget() const { return impl_->budget_; }
const search::SearchSpace& SearchRunner::space() const { return impl_->space_; }
void SearchRunner::check_masks() const { impl_->check_masks(); }
void SearchRunner::set_run_dir(std::filesystem::path run_dir) { impl_->run_dir_ = std::move(run_dir); }
void SearchRunner::set_data(const data::Dataset* data) { impl_->data_ = data; }
void SearchRunner::set_group(std::shared_ptr<dist::Group> group) { impl_->group_ = std::move(group); }
std::optional<nlohmann::json> SearchRunner::run(int64_t seed, train::SeedStatus& status, std::string& message) {
  return impl_->run(seed, status, message);
}

}  // namespace propnet::cli
