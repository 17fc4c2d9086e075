#pragma once
#include <string>
#include <vector>

namespace propnet::train {

/// Mean ± std over seeds, as the paper's tables (sample std) and fusenet's `get_results.py`
/// (median (mean ± population std, best)) report them.
struct SeedStatistics {
  int64_t n = 0;
  double mean = 0;
  double std = 0;      ///< Sample standard deviation (n - 1); 0 for one seed.
  double std_pop = 0;  ///< Population standard deviation (n), as get_results.py prints.
  double median = 0;
  double best = 0;
};

/// Statistics of `values`; all zero for an empty list.
SeedStatistics seed_statistics(const std::vector<double>& values);

/// "93.12 (93.05 ± 0.10, 93.20)": median (mean ± population std, best), two decimals.
std::string reference_line(const SeedStatistics& stats);

}  // namespace propnet::train
