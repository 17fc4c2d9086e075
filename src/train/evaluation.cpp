#include "evaluation.h"

#include <cmath>

#include <ATen/ops/arange.h>
#include <ATen/ops/full.h>
#include <ATen/ops/stack.h>
#include <c10/util/Exception.h>
#include <torch/nn/module.h>

#include <propnet/train/device.h>

namespace propnet::train::detail {

Totals global_totals(const DeviceSums& sums, int64_t images, dist::Group* group) {
  if (group == nullptr) return {sums.loss_sum.item<double>(), sums.correct.item<int64_t>(), images};
  at::Tensor t = at::stack({sums.loss_sum.to(at::kDouble), sums.correct.to(at::kDouble),
                            at::full({}, static_cast<double>(images), sums.loss_sum.options().dtype(at::kDouble))});
  group->allreduce_sum(t);
  t = t.cpu();
  const double* v = t.data_ptr<double>();
  return {v[0], static_cast<int64_t>(std::llround(v[1])), static_cast<int64_t>(std::llround(v[2]))};
}

EvalResult evaluate_with(StepRunner& runner, torch::nn::Module& module, const data::Split& split,
                         const data::Normalizer& normalizer, int64_t batch_size, bool channels_last,
                         dist::Group* group) {
  TORCH_CHECK_VALUE(batch_size > 0, "evaluate: expected batch_size > 0 (got ", batch_size, ")");
  const bool was_training = module.is_training();
  module.eval();
  runner.sums().reset();
  const int64_t n = split.size();
  const int64_t rank = group ? group->rank() : 0, world = group ? group->world_size() : 1;
  const int64_t begin = n * rank / world, end = n * (rank + 1) / world;
  for (int64_t start = begin; start < end; start += batch_size) {
    // Made on the device: an eval batch uploads nothing either.
    const auto indices = at::arange(start, std::min(end, start + batch_size),
                                    at::TensorOptions().dtype(at::kLong).device(split.images.device()));
    auto x = data::make_batch(split.images, indices, normalizer, {}, {}, /*train=*/false);
    if (channels_last) x = to_channels_last(x);
    runner.run(x, split.labels.slice(0, start, start + indices.size(0)));
  }
  module.train(was_training);
  const Totals totals = global_totals(runner.sums(), end - begin, group);
  EvalResult r;
  r.images = n;
  r.loss = n ? totals.loss_sum / static_cast<double>(n) : 0.0;
  r.accuracy = n ? 100.0 * static_cast<double>(totals.correct) / static_cast<double>(n) : 0.0;
  return r;
}

}  // namespace propnet::train::detail

namespace propnet::train {

EvalResult evaluate(torch::nn::AnyModule module, const data::Split& split, const data::Normalizer& normalizer,
                    int64_t batch_size, const TrainSpec& precision) {
  const detail::Model model = detail::Model::of(std::move(module));
  const auto runner = detail::make_eval_runner(model, precision, split.images.device());
  return detail::evaluate_with(*runner, *model.module, split, normalizer, batch_size,
                               resolve_channels_last(precision.channels_last, split.images.device()));
}

}  // namespace propnet::train
