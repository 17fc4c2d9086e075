#include <propnet/experiment/run_folder.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>

#include <propnet/atomic_file.h>
#include <propnet/choices.h>
#include <propnet/train/trainer.h>

namespace propnet::experiment {
namespace {

constexpr const char* kSeedPrefix = "seed-";
constexpr const char* kFailedMarker = "FAILED";
constexpr const char* kSearchResult = "search.json";

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

nlohmann::json seed_json(const SeedRecord& r) {
  nlohmann::json seed{{"seed", r.seed}, {"epochs_completed", r.epochs_completed}};
  if (r.final_test_acc) seed["final_test_acc"] = *r.final_test_acc;
  seed["status"] = to_string(r.state);
  if (!r.message.empty()) seed["message"] = r.message;
  return seed;
}

}  // namespace

std::string to_string(SeedState state) {
  switch (state) {
    case SeedState::kDone: return "done";
    case SeedState::kStopped: return "stopped";
    case SeedState::kFailed: return "failed";
    case SeedState::kIncomplete: return "incomplete";
    case SeedState::kUnreadable: return "unreadable";
  }
  return "incomplete";
}

std::string RunSummary::line() const {
  if (statistics.n == 0) return "no finished seed yet";
  char head[96];
  if (statistics.n == 1) {  // one seed has no spread: a "± 0.00" would read as a measured one
    std::snprintf(head, sizeof head, "%.2f (n=1: one seed, no spread)", statistics.mean);
    return head;
  }
  std::snprintf(head, sizeof head, "%.2f \u00b1 %.2f (n=%lld, sample std)", statistics.mean, statistics.std,
                static_cast<long long>(statistics.n));
  return std::string(head) + "; median (mean \u00b1 std_pop, best): " + train::reference_line(statistics);
}

RunFolder::RunFolder(std::filesystem::path dir, Kind kind) : dir_(std::move(dir)), kind_(kind) {}

std::filesystem::path RunFolder::seed_dir(int64_t seed) const { return dir_ / (kSeedPrefix + std::to_string(seed)); }

std::optional<int64_t> RunFolder::seed_of(const std::filesystem::path& seed_dir) {
  const std::string name = seed_dir.filename().string();
  const size_t prefix = std::char_traits<char>::length(kSeedPrefix);
  if (name.rfind(kSeedPrefix, 0) != 0 || name.size() == prefix || name.size() > prefix + 18) return std::nullopt;
  if (name.find_first_not_of("0123456789", prefix) != std::string::npos) return std::nullopt;
  return std::stoll(name.substr(prefix));
}

std::vector<int64_t> RunFolder::seeds_on_disk() const {
  std::vector<int64_t> seeds;
  if (!std::filesystem::is_directory(dir_)) return seeds;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    const auto seed = seed_of(entry.path());
    if (entry.is_directory() && seed) seeds.push_back(*seed);  // not seed-old/
  }
  std::sort(seeds.begin(), seeds.end());
  return seeds;
}

namespace {

// The first key that changes results between the experiment `dir` holds and `config`; nullopt when it holds none
// or the same one. Throws c10::ValueError for an unreadable config.json.
std::optional<ConfigDifference> held_difference(const std::filesystem::path& dir, const ExperimentConfig& config) {
  const auto path = dir / "config.json";
  if (!std::filesystem::exists(path)) return std::nullopt;
  return first_result_difference(parse_config(read_text(path), path.string()), config);
}

// Whether `dir` can take `config`: no folder yet, or one holding the same experiment (it resumes).
bool takes(const std::filesystem::path& dir, const ExperimentConfig& config) {
  if (!std::filesystem::exists(dir)) return true;
  try {
    return std::filesystem::exists(dir / "config.json") && !held_difference(dir, config);
  } catch (const c10::Error&) {
    return false;  // an unreadable config.json: not a folder to offer
  }
}

// A run name for `config` that says the setting it changes ("<name>-epochs4", then "<name>-epochs4-2"), free beside
// `dir`: what the refusal of a changed experiment offers instead of an anonymous --name.
std::string free_name(const std::filesystem::path& dir, const ExperimentConfig& config, const ConfigDifference& d) {
  std::string value;
  for (char c : d.now) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '.') value += c;
  }
  const std::string suffix = "-" + d.path.substr(d.path.rfind('.') + 1) + (value.size() <= 16 ? value : "");
  for (int i = 1;; ++i) {
    const std::string numbered = i == 1 ? suffix : suffix + "-" + std::to_string(i);
    if (takes(dir.parent_path() / (dir.filename().string() + numbered), config)) return run_name(config) + numbered;
  }
}

}  // namespace

void RunFolder::prepare(const ExperimentConfig& config, bool restart) const {
  const auto config_path = dir_ / "config.json";
  if (restart && std::filesystem::exists(dir_)) {
    for (int64_t seed : seeds_on_disk()) std::filesystem::remove_all(seed_dir(seed));
    std::filesystem::remove(dir_ / "summary.json");
    std::filesystem::remove(dir_ / "searches.json");  // propnet search's summary
  } else if (const auto difference = held_difference(dir_, config)) {
    TORCH_CHECK_VALUE(false, "the run folder \"", dir_.string(), "\" holds a different experiment: ", difference->path,
                      " (", difference->before, " in the run folder, ", difference->now, " now); pass --name ",
                      free_name(dir_, config, *difference), " for a new run folder, or --restart to discard it");
  }
  std::filesystem::create_directories(dir_);
  write_text_atomically(config_path, to_json(config, /*environment=*/true));
}

std::filesystem::path RunFolder::result_file(int64_t seed) const {
  return kind_ == Kind::kSearch ? seed_dir(seed) / kSearchResult : train::SeedFiles(seed_dir(seed)).model;
}

bool RunFolder::done(int64_t seed) const { return std::filesystem::exists(result_file(seed)); }

void RunFolder::begin_seed(int64_t seed) const {
  std::filesystem::create_directories(seed_dir(seed));
  std::filesystem::remove(seed_dir(seed) / kFailedMarker);
}

void RunFolder::mark_failed(int64_t seed, const std::string& reason) const {
  write_text_atomically(seed_dir(seed) / kFailedMarker, reason + "\n");
}

SeedRecord RunFolder::record(int64_t seed) const {
  SeedRecord r;
  r.seed = seed;
  const train::SeedFiles files(seed_dir(seed));
  const bool has_checkpoint =
      std::filesystem::exists(files.checkpoint) || std::filesystem::exists(files.previous_checkpoint);
  std::vector<train::EpochMetrics> metrics;
  try {
    if (has_checkpoint) metrics = train::read_checkpoint_metrics(files.checkpoint);
  } catch (const c10::Error& e) {  // a damaged checkpoint makes its seed "unreadable", not the summary fail
    r.state = SeedState::kUnreadable;
    r.message = e.what_without_backtrace();
    return r;
  }
  r.epochs_completed = static_cast<int64_t>(metrics.size());
  if (!metrics.empty() && metrics.back().has_test) r.final_test_acc = metrics.back().test_acc;
  const auto failed = files.dir / kFailedMarker;
  if (std::filesystem::exists(failed)) {
    r.state = SeedState::kFailed;
    r.message = read_text(failed);
  } else if (done(seed)) {
    r.state = SeedState::kDone;
  } else {
    r.state = has_checkpoint ? SeedState::kStopped : SeedState::kIncomplete;
  }
  return r;
}

RunSummary RunFolder::summarize() const {
  RunSummary summary;
  std::vector<double> finals;
  for (int64_t seed : seeds_on_disk()) {
    summary.seeds.push_back(record(seed));
    const SeedRecord& r = summary.seeds.back();
    if (r.state == SeedState::kDone && r.final_test_acc) finals.push_back(*r.final_test_acc);
  }
  summary.statistics = train::seed_statistics(finals);
  return summary;
}

RunSummary RunFolder::write_summary(const ExperimentConfig& config) const {
  const RunSummary summary = summarize();
  const train::SeedStatistics& s = summary.statistics;
  nlohmann::json seeds = nlohmann::json::array();
  for (const SeedRecord& r : summary.seeds) seeds.push_back(seed_json(r));
  nlohmann::json out{{"run", run_name(config)},
                     {"dataset", propnet::to_string(config.data.dataset)},
                     {"epochs", config.train.epochs},
                     {"seeds", seeds},
                     {"n", s.n},
                     {"mean", s.mean},
                     {"std", s.std},
                     {"std_pop", s.std_pop},
                     {"median", s.median},
                     {"best", s.best},
                     {"reference_line", s.n ? train::reference_line(s) : ""}};
  if (config.paper) out["paper"] = {{"mean", config.paper->mean}, {"std", config.paper->std}};
  write_text_atomically(dir_ / "summary.json", out.dump(2) + "\n");
  return summary;
}

}  // namespace propnet::experiment
