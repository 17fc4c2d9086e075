#include "run_folder.h"

#include <fstream>
#include <sstream>

#include <propnet/atomic_file.h>

#include "cli.h"

namespace propnet::cli {

int64_t seed_of_folder(const std::filesystem::path& dir) {
  const std::string name = dir.filename().string();
  if (name.rfind("seed-", 0) != 0 || name.size() == 5 || name.size() > 23) return -1;
  if (name.find_first_not_of("0123456789", 5) != std::string::npos) return -1;
  return std::stoll(name.substr(5));
}

void prepare_run_folder(const std::filesystem::path& run_dir, const ExperimentConfig& config, bool restart) {
  const auto config_path = run_dir / "config.json";
  if (restart && std::filesystem::exists(run_dir)) {
    for (const auto& entry : std::filesystem::directory_iterator(run_dir)) {
      if (entry.is_directory() && seed_of_folder(entry.path()) >= 0) std::filesystem::remove_all(entry.path());
    }
    std::filesystem::remove(run_dir / "summary.json");
    std::filesystem::remove(run_dir / "searches.json");  // propnet search's summary
  } else if (std::filesystem::exists(config_path)) {
    std::ifstream in(config_path);
    std::stringstream text;
    text << in.rdbuf();
    const ExperimentConfig before = parse_config(text.str(), config_path.string());
    if (const auto difference = first_result_difference(before, config)) {
      throw UsageError("the run folder \"" + run_dir.string() + "\" holds a different experiment: " + difference->path +
                       " (" + difference->before + " in the run folder, " + difference->now +
                       " now); pass --restart to discard it, or --name/--out for a new run folder");
    }
  }
  std::filesystem::create_directories(run_dir);
  write_text_atomically(config_path, to_json(config, /*environment=*/true));
}

}  // namespace propnet::cli
