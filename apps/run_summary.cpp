#include "run_summary.h"

#include <algorithm>
#include <fstream>

#include <c10/util/Exception.h>
#include <fmt/format.h>

#include <propnet/atomic_file.h>
#include <propnet/choices.h>
#include <propnet/train/statistics.h>
#include <propnet/train/trainer.h>

#include "run_folder.h"

namespace propnet::cli {

nlohmann::json summarize_run(const std::filesystem::path& run_dir, const ExperimentConfig& config) {
  nlohmann::json seeds = nlohmann::json::array();
  std::vector<double> finals;
  std::vector<std::filesystem::path> dirs;
  for (const auto& entry : std::filesystem::directory_iterator(run_dir)) {
    if (entry.is_directory() && seed_of_folder(entry.path()) >= 0) dirs.push_back(entry.path());  // not seed-old/
  }
  std::sort(dirs.begin(), dirs.end(), [](const auto& a, const auto& b) { return seed_of_folder(a) < seed_of_folder(b); });
  for (const auto& dir : dirs) {
    const train::SeedFiles files(dir);
    nlohmann::json seed{{"seed", seed_of_folder(dir)}};
    std::vector<train::EpochMetrics> metrics;
    std::string unreadable;  // a damaged checkpoint makes its seed "unreadable", not the summary fail
    try {
      if (std::filesystem::exists(files.checkpoint) || std::filesystem::exists(files.previous_checkpoint)) {
        metrics = train::read_checkpoint_metrics(files.checkpoint);
      }
    } catch (const c10::Error& e) {
      unreadable = e.what_without_backtrace();
    }
    seed["epochs_completed"] = metrics.size();
    if (!metrics.empty()) seed["final_test_acc"] = metrics.back().test_acc;
    const auto failed = dir / kFailedMarker;
    if (!unreadable.empty()) {
      seed["status"] = "unreadable";
      seed["message"] = unreadable;
    } else if (std::filesystem::exists(failed)) {
      std::ifstream in(failed);
      std::string reason((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      seed["status"] = "failed";
      seed["message"] = reason;
    } else if (static_cast<int64_t>(metrics.size()) == config.train.epochs && std::filesystem::exists(files.model)) {
      seed["status"] = "done";
      finals.push_back(metrics.back().test_acc);
    } else {
      seed["status"] = "incomplete";
    }
    seeds.push_back(seed);
  }
  const train::SeedStatistics s = train::seed_statistics(finals);
  nlohmann::json summary{{"run", run_name(config)},
                         {"dataset", to_string(config.data.dataset)},
                         {"epochs", config.train.epochs},
                         {"seeds", seeds},
                         {"n", s.n},
                         {"mean", s.mean},
                         {"std", s.std},
                         {"std_pop", s.std_pop},
                         {"median", s.median},
                         {"best", s.best},
                         {"reference_line", s.n ? train::reference_line(s) : ""}};
  if (config.paper) summary["paper"] = {{"mean", config.paper->mean}, {"std", config.paper->std}};
  return summary;
}

std::string write_run_summary(const std::filesystem::path& run_dir, const ExperimentConfig& config) {
  const nlohmann::json summary = summarize_run(run_dir, config);
  write_text_atomically(run_dir / "summary.json", summary.dump(2) + "\n");
  if (summary["n"].get<int64_t>() == 0) return "no finished seed yet";
  return fmt::format("{:.2f} \u00b1 {:.2f} (n={}, sample std); median (mean \u00b1 std_pop, best): {}",
                     summary["mean"].get<double>(), summary["std"].get<double>(), summary["n"].get<int64_t>(),
                     summary["reference_line"].get<std::string>());
}

}  // namespace propnet::cli
