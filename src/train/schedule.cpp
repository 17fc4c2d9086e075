#include <propnet/train/schedule.h>

#include <cmath>

namespace propnet::train {

std::vector<int64_t> lr_milestones(const TrainSpec& spec) {
  if (!spec.milestones.empty()) return spec.milestones;
  std::vector<int64_t> epochs;
  for (double fraction : spec.milestone_fractions) {
    epochs.push_back(static_cast<int64_t>(std::floor(fraction * static_cast<double>(spec.epochs))));
  }
  return epochs;
}

double lr_at(const TrainSpec& spec, int64_t epoch) {
  double lr = spec.lr;
  for (int64_t milestone : lr_milestones(spec)) {
    if (epoch >= milestone) lr *= spec.lr_factor;
  }
  return lr;
}

}  // namespace propnet::train
