#pragma once
// What `propnet search` leaves in a seed folder: search.json (the mask, its sites and ReLU elements,
// the scores and trajectory, costs, every hyper-parameter, provenance) and mask.txt / masks.txt.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <propnet/config.h>
#include <propnet/nn/relu_mask.h>

namespace propnet::cli {

/// A network mask of `network` described as info --sites describes it: "relu_mask", "kept_sites"
/// (names), "sites_kept", "relu_elements" (per image, stem and head included, as info counts them).
nlohmann::json describe_network_mask(const models::NetworkSpec& network, const ReluMask& mask);

/// Every site of the network in mask order with its stage and ReLU elements per image, and the fixed
/// sites' elements (stem, head): "sites", "fixed_relu_elements".
nlohmann::json site_table(const models::NetworkSpec& network);

/// The head every search.json starts with: method, seed, propnet version and git revision, the
/// whole resolved config (every hyper-parameter) and the site table.
nlohmann::json search_header(const ExperimentConfig& config, int64_t seed);

/// Writes `dir`/search.json and, for one mask, mask.txt (the bare string), or, for several, masks.txt
/// (one per line, in the order of "masks"). Atomically, search.json last: its presence marks the
/// seed as done.
void write_search_files(const std::filesystem::path& dir, const nlohmann::json& search);

/// The seed folders' search.json files, summarised into `run_dir`/searches.json; returns the path.
std::filesystem::path write_search_summary(const std::filesystem::path& run_dir, const std::vector<int64_t>& seeds);

}  // namespace propnet::cli
