#include "search_output.h"

#include <fstream>
#include <sstream>

#include <propnet/atomic_file.h>
#include <propnet/choices.h>
#include <propnet/models/network.h>
#include <propnet/runtime.h>

namespace propnet::cli {
namespace {

models::NetworkSpec with_mask(models::NetworkSpec network, const ReluMask& mask) {
  network.relu_mask = mask.to_string();
  network.relu_mask_file.clear();
  network.relu_drop.clear();
  return network;
}

std::vector<models::ReluSite> sites_of(const models::NetworkSpec& network) {
  models::Network net(network);
  return net->relu_sites();
}

}  // namespace

nlohmann::json describe_network_mask(const models::NetworkSpec& network, const ReluMask& mask) {
  nlohmann::json kept = nlohmann::json::array();
  int64_t elements = 0;
  for (const models::ReluSite& site : sites_of(with_mask(network, mask))) {
    if (site.kept) elements += site.elements();
    if (site.kept && !site.fixed) kept.push_back(site.name);
  }
  return {{"relu_mask", mask.to_string()}, {"sites_kept", kept.size()}, {"kept_sites", kept},
          {"relu_elements", elements}};
}

nlohmann::json site_table(const models::NetworkSpec& network) {
  nlohmann::json sites = nlohmann::json::array();
  int64_t fixed = 0, all = 0;
  for (const models::ReluSite& site : sites_of(network)) {  // elements are measured kept or not
    all += site.elements();
    if (site.fixed) {
      fixed += site.elements();
      continue;
    }
    sites.push_back({{"name", site.name}, {"stage", site.stage}, {"mask_bit", site.mask_bit},
                     {"elements", site.elements()}});
  }
  return {{"sites", sites}, {"fixed_relu_elements", fixed}, {"relu_elements_paired", all}};
}

nlohmann::json search_header(const ExperimentConfig& config, int64_t seed) {
  const RuntimeInfo info = runtime_info();
  nlohmann::json head{{"method", to_string(config.search.method)},
                      {"seed", seed},
                      {"propnet", info.propnet_version},
                      {"git_sha", info.git_revision},
                      {"git_dirty", info.git_dirty},
                      {"libtorch", info.torch_version},
                      {"config", nlohmann::json::parse(to_json(config))}};
  head.update(site_table(config.network));
  return head;
}

void write_search_files(const std::filesystem::path& dir, const nlohmann::json& search) {
  std::filesystem::create_directories(dir);
  if (search.contains("masks")) {
    std::string lines;
    for (const auto& entry : search["masks"]) lines += entry["relu_mask"].get<std::string>() + "\n";
    write_text_atomically(dir / "masks.txt", lines);
  } else {
    write_text_atomically(dir / "mask.txt", search["relu_mask"].get<std::string>() + "\n");
  }
  write_text_atomically(dir / "search.json", search.dump(2) + "\n");
}

std::filesystem::path write_search_summary(const std::filesystem::path& run_dir, const std::vector<int64_t>& seeds) {
  nlohmann::json entries = nlohmann::json::array();
  for (int64_t seed : seeds) {
    const auto file = run_dir / ("seed-" + std::to_string(seed)) / "search.json";
    nlohmann::json entry{{"seed", seed}, {"search_json", file.string()}};
    std::ifstream in(file);
    if (!in) {
      entry["status"] = "incomplete";
    } else {
      std::stringstream text;
      text << in.rdbuf();
      const nlohmann::json search = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
      entry["status"] = search.is_discarded() ? "unreadable" : "done";
      for (const char* key : {"relu_mask", "sites_kept", "relu_elements", "final_val_acc", "wall_seconds"}) {
        if (search.is_object() && search.contains(key)) entry[key] = search[key];
      }
      if (search.is_object() && search.contains("masks")) entry["masks"] = search["masks"].size();
    }
    entries.push_back(entry);
  }
  const auto path = run_dir / "searches.json";
  write_text_atomically(path, nlohmann::json{{"seeds", entries}}.dump(2) + "\n");
  return path;
}

}  // namespace propnet::cli
