#pragma once
// What `propnet search` leaves in a seed folder: search.json (the mask, its sites and ReLU elements,
// the scores and trajectory, costs, every hyper-parameter, provenance) and mask.txt / masks.txt; and
// the run folder's searches.json. The JSON edge of the library's typed `search::SearchResult`.
#include <filesystem>
#include <vector>

#include <nlohmann/json.hpp>

#include <propnet/config.h>
#include <propnet/experiment/run_folder.h>
#include <propnet/search/run.h>

namespace propnet::cli {

/// search.json of one seed: method, seed, provenance (propnet version, git revision, LibTorch), the
/// whole resolved config, the site table, the budget, and the result's masks, scores and costs.
nlohmann::json search_json(const ExperimentConfig& config, const search::SearchPlan& plan,
                           const search::SearchResult& result);

/// The seed's mask file: mask.txt for a found mask, masks.txt for the drawn masks of random / exhaustive.
std::filesystem::path mask_file(const experiment::RunFolder& folder, int64_t seed, SearchMethod method);

/// Writes the seed's mask.txt (the bare string) or, for several masks, masks.txt (one per line, in the
/// order of "masks"), then `search` as its search.json (`RunFolder::result_file`): atomically, and
/// last, as its presence marks the seed as done.
void write_search_files(const experiment::RunFolder& folder, int64_t seed, SearchMethod method,
                        const nlohmann::json& search);

/// Every seed folder's record (and those of `seeds` not started yet) with its search.json's headline
/// values, as `folder`/searches.json; returns the path.
std::filesystem::path write_search_summary(const experiment::RunFolder& folder, const std::vector<int64_t>& seeds);

}  // namespace propnet::cli
