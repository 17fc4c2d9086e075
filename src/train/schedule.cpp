#include <propnet/train/schedule.h>

#include <cmath>

#include <c10/util/Exception.h>

namespace propnet::train {

std::vector<int64_t> lr_milestone_steps(const TrainSpec& spec, int64_t steps_per_epoch) {
  TORCH_CHECK_VALUE(steps_per_epoch >= 1, "lr schedule: expected steps per epoch >= 1 (got ", steps_per_epoch, ")");
  std::vector<int64_t> steps;
  if (!spec.milestones.empty()) {
    for (int64_t epoch : spec.milestones) steps.push_back(epoch * steps_per_epoch);
    return steps;
  }
  const double total = static_cast<double>(spec.epochs) * static_cast<double>(steps_per_epoch);
  for (double fraction : spec.milestone_fractions) steps.push_back(static_cast<int64_t>(std::floor(fraction * total)));
  return steps;
}

double lr_at_step(const TrainSpec& spec, int64_t steps_per_epoch, int64_t step) {
  double lr = spec.lr;
  for (int64_t milestone : lr_milestone_steps(spec, steps_per_epoch)) {
    if (step >= milestone) lr *= spec.lr_factor;
  }
  return lr;
}

}  // namespace propnet::train
