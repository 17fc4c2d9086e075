#pragma once
#include <cstdint>
#include <vector>

#include <propnet/config.h>

namespace propnet::train {

/// The 0-based epochs at which the learning rate drops: `spec.milestones` when given, else
/// floor(fraction * epochs) for each fraction (fusenet's lr_steps [E/2, 3E/4, 7E/8]: 200, 300, 350 of 400).
std::vector<int64_t> lr_milestones(const TrainSpec& spec);

/// The learning rate of 0-based `epoch`: lr * lr_factor^(milestones <= epoch).
double lr_at(const TrainSpec& spec, int64_t epoch);

}  // namespace propnet::train
