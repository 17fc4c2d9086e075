#include <propnet/train/statistics.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

namespace propnet::train {

SeedStatistics seed_statistics(const std::vector<double>& values) {
  SeedStatistics s;
  s.n = static_cast<int64_t>(values.size());
  if (values.empty()) return s;
  const double n = static_cast<double>(values.size());
  s.mean = std::accumulate(values.begin(), values.end(), 0.0) / n;
  double squares = 0;
  for (double v : values) squares += (v - s.mean) * (v - s.mean);
  s.std_pop = std::sqrt(squares / n);
  s.std = values.size() > 1 ? std::sqrt(squares / (n - 1)) : 0.0;
  std::vector<double> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  const size_t mid = sorted.size() / 2;
  s.median = sorted.size() % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  s.best = sorted.back();
  return s;
}

std::string reference_line(const SeedStatistics& stats) {
  char text[96];
  std::snprintf(text, sizeof(text), "%.2f (%.2f \u00b1 %.2f, %.2f)", stats.median, stats.mean, stats.std_pop, stats.best);
  return text;
}

}  // namespace propnet::train
