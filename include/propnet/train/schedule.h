#pragma once
// The learning-rate schedule, counted in optimizer steps as the reference code (fusenet on MXNet)
// counts its lr_steps in updates: every run length gets the protocol's phases in their proportions.
#include <cstdint>
#include <vector>

#include <propnet/config.h>

namespace propnet::train {

/// The 0-based global optimizer steps (epoch x steps_per_epoch + step) at which the learning rate
/// drops: floor(fraction x epochs x steps_per_epoch) for each of `spec.milestone_fractions`, or the
/// first step of each epoch in `spec.milestones` when that is given. At the paper's 400 epochs the
/// fractions 1/2, 3/4, 7/8 are the first steps of epochs 200, 300 and 350; a 1-epoch run drops at
/// steps S/2, 3S/4 and 7S/8 of its S steps.
std::vector<int64_t> lr_milestone_steps(const TrainSpec& spec, int64_t steps_per_epoch);

/// The learning rate of 0-based global step `step`: lr x lr_factor^(milestone steps <= step).
double lr_at_step(const TrainSpec& spec, int64_t steps_per_epoch, int64_t step);

}  // namespace propnet::train
