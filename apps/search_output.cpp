#include "search_output.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <propnet/atomic_file.h>
#include <propnet/choices.h>
#include <propnet/models/network_mask.h>
#include <propnet/runtime.h>

namespace propnet::cli {
namespace {

nlohmann::json mask_json(const models::NetworkSpec& network, const ReluMask& mask) {
  const search::MaskSummary s = search::summarize_mask(network, mask);
  return {{"relu_mask", mask.to_string()}, {"sites_kept", s.kept_sites.size()}, {"kept_sites", s.kept_sites},
          {"relu_elements", s.relu_elements}};
}

nlohmann::json header_json(const ExperimentConfig& config, const search::SearchPlan& plan, int64_t seed) {
  const RuntimeInfo info = runtime_info();
  nlohmann::json sites = nlohmann::json::array();
  for (const search::SiteInfo& site : plan.sites.sites) {
    sites.push_back({{"name", site.name}, {"stage", site.stage}, {"mask_bit", site.mask_bit},
                     {"elements", site.elements}});
  }
  nlohmann::json budget{{"min_keep_per_stage", plan.budget.sites.min_keep_per_stage}};
  if (plan.budget.by_elements()) {
    budget["relu_budget"] = config.search.relu_budget;
  } else {
    budget["keep"] = plan.budget.sites.keep;
  }
  return {{"method", to_string(config.search.method)},
          {"seed", seed},
          {"propnet", info.propnet_version},
          {"git_sha", info.git_revision},
          {"git_dirty", info.git_dirty},
          {"libtorch", info.torch_version},
          {"config", nlohmann::json::parse(to_json(config))},
          {"sites", sites},
          {"fixed_relu_elements", plan.sites.fixed_elements},
          {"relu_elements_paired", plan.sites.paired_elements},
          {"budget", budget},
          {"searchable_sites", plan.space.size()}};
}

nlohmann::json epochs_json(const search::SearchResult& r) {
  nlohmann::json rows = nlohmann::json::array();
  for (size_t i = 0; i < r.metrics.size(); ++i) {
    const train::EpochMetrics& m = r.metrics[i];
    nlohmann::json row{{"epoch", m.epoch},       {"lr", m.lr},           {"train_loss", m.train_loss},
                       {"train_acc", m.train_acc}, {"val_loss", m.val_loss}, {"val_acc", m.val_acc},
                       {"seconds", m.seconds}};
    if (i < r.trajectory.size()) {
      row["relu_mask"] = r.trajectory[i].mask;
      row["hamming"] = r.trajectory[i].hamming;
    }
    rows.push_back(row);
  }
  return rows;
}

void add_gates(nlohmann::json& out, const search::SearchResult& r) {
  out["scores"] = r.scores;
  out["score_meaning"] = "per site, an EMA of -dL/dg over validation batches: the first-order benefit of its ReLU";
  out["final_val_acc"] = r.metrics.back().val_acc;
  out["score_steps"] = r.score_steps;
  out["val_images_scored"] = r.val_images_scored;
  out["warmup_epochs"] = r.warmup_epochs;
  out["freeze_epochs"] = r.freeze_epochs;
}

void add_greedy(nlohmann::json& out, const models::NetworkSpec& network, const search::SearchResult& r) {
  const std::vector<std::string> names = models::site_names(network);
  out["removal_costs"] = r.scores;
  out["score_meaning"] = "removal_costs: per site, how much removing it alone raised the validation loss of the "
                         "trained network (first round)";
  nlohmann::json rounds = nlohmann::json::array();
  for (const search::GreedyRound& round : r.greedy.rounds) {
    rounds.push_back({{"removed", names.at(static_cast<size_t>(round.removed))}, {"val_loss", round.val_loss},
                      {"relu_mask", round.mask}});
  }
  out["base_val_loss"] = r.greedy.base_loss;
  out["rounds"] = rounds;
  out["measurements"] = r.greedy.measurements;
  out["greedy_seconds"] = r.greedy_seconds;
}

}  // namespace

nlohmann::json search_json(const ExperimentConfig& config, const search::SearchPlan& plan,
                           const search::SearchResult& result) {
  nlohmann::json out = header_json(config, plan, result.seed);
  out["wall_seconds"] = result.wall_seconds;
  if (!search::needs_training(result.method)) {
    out["masks_with_budget"] = result.masks_with_budget;
    out["masks"] = nlohmann::json::array();
    for (const ReluMask& m : result.masks) out["masks"].push_back(mask_json(config.network, m));
    return out;
  }
  out.update(mask_json(config.network, result.mask()));
  out["train_images"] = result.train_images;
  out["val_images"] = result.val_images;
  out["train_images_processed"] = result.train_images * static_cast<int64_t>(result.metrics.size());
  out["epochs"] = epochs_json(result);
  out["final_val_loss"] = result.final_val_loss();
  if (result.method == SearchMethod::kGates) {
    add_gates(out, result);
  } else {
    add_greedy(out, config.network, result);
  }
  return out;
}

std::filesystem::path mask_file(const experiment::RunFolder& folder, int64_t seed, SearchMethod method) {
  return folder.seed_dir(seed) / (search::needs_training(method) ? "mask.txt" : "masks.txt");
}

void write_search_files(const experiment::RunFolder& folder, int64_t seed, SearchMethod method,
                        const nlohmann::json& search) {
  std::filesystem::create_directories(folder.seed_dir(seed));
  std::string lines;
  if (search.contains("masks")) {
    for (const auto& entry : search["masks"]) lines += entry["relu_mask"].get<std::string>() + "\n";
  } else {
    lines = search["relu_mask"].get<std::string>() + "\n";
  }
  write_text_atomically(mask_file(folder, seed, method), lines);
  write_text_atomically(folder.result_file(seed), search.dump(2) + "\n");  // last: it marks the seed done
}

std::filesystem::path write_search_summary(const experiment::RunFolder& folder, const std::vector<int64_t>& seeds) {
  std::vector<int64_t> listed = folder.seeds_on_disk();  // and the seeds asked for that have no folder yet
  listed.insert(listed.end(), seeds.begin(), seeds.end());
  std::sort(listed.begin(), listed.end());
  listed.erase(std::unique(listed.begin(), listed.end()), listed.end());
  nlohmann::json entries = nlohmann::json::array();
  for (int64_t seed : listed) {
    const auto file = folder.result_file(seed);
    const experiment::SeedRecord record = folder.record(seed);
    nlohmann::json entry{{"seed", seed}, {"search_json", file.string()}, {"status", experiment::to_string(record.state)}};
    if (!record.message.empty()) entry["message"] = record.message;
    if (record.state == experiment::SeedState::kDone) {
      std::ifstream in(file);
      std::stringstream text;
      text << in.rdbuf();
      const nlohmann::json search = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
      if (search.is_discarded()) entry["status"] = experiment::to_string(experiment::SeedState::kUnreadable);
      for (const char* key : {"relu_mask", "sites_kept", "relu_elements", "final_val_acc", "wall_seconds"}) {
        if (search.is_object() && search.contains(key)) entry[key] = search[key];
      }
      if (search.is_object() && search.contains("masks")) entry["masks"] = search["masks"].size();
    }
    entries.push_back(entry);
  }
  const auto path = folder.dir() / "searches.json";
  write_text_atomically(path, nlohmann::json{{"seeds", entries}}.dump(2) + "\n");
  return path;
}

}  // namespace propnet::cli
