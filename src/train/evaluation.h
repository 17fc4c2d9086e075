#pragma once
// Test passes and the loss/accuracy sums behind every metric, over one process or all ranks.
#include <cstdint>

#include <propnet/data/dataset.h>
#include <propnet/data/transforms.h>
#include <propnet/dist/group.h>
#include <propnet/train/trainer.h>

#include "step_runner.h"

namespace propnet::train::detail {

/// Sums of (loss, correct, images).
struct Totals {
  double loss_sum = 0;
  int64_t correct = 0;
  int64_t images = 0;
};
/// The device sums and this rank's image count, summed over the ranks with one all-reduce (none
/// without a group). A host read: it syncs the device.
Totals global_totals(const DeviceSums& sums, int64_t images, dist::Group* group);

/// The test pass through `runner` (eager, or replayed from a CUDA graph) with `module` in eval mode.
/// With a group, rank r evaluates the r-th contiguous slice of the split and the sums are all-reduced.
EvalResult evaluate_with(StepRunner& runner, torch::nn::Module& module, const data::Split& split,
                         const data::Normalizer& normalizer, int64_t batch_size, bool channels_last,
                         dist::Group* group = nullptr);

}  // namespace propnet::train::detail
