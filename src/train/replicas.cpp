#include "replicas.h"

#include <ATen/core/grad_mode.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/full.h>
#include <c10/util/Exception.h>
#include <torch/nn/module.h>

namespace propnet::train::detail {

std::vector<at::Tensor> state_tensors(torch::nn::Module& module) {
  std::vector<at::Tensor> tensors = module.parameters();
  for (const auto& b : module.buffers()) tensors.push_back(b);
  return tensors;
}

void agree_on_checkpoint(dist::Group& group, const c10::Device& device, bool has_checkpoint, Progress& progress,
                         const std::filesystem::path& dir) {
  at::Tensor where = at::empty({4}, at::TensorOptions().dtype(at::kDouble));
  double* w = where.data_ptr<double>();
  w[0] = has_checkpoint ? 1.0 : 0.0;
  w[1] = static_cast<double>(progress.epoch);
  w[2] = static_cast<double>(progress.step);
  w[3] = progress.finished ? 1.0 : 0.0;
  where = where.to(device);
  at::Tensor rank0 = where.clone();
  group.broadcast(rank0, 0);
  at::Tensor mismatch = rank0.ne(where).any().to(at::kDouble).reshape({1});
  group.allreduce_sum(mismatch);
  TORCH_CHECK(mismatch.item<double>() == 0, "train: ", mismatch.item<double>(), " rank(s) see another checkpoint "
              "than rank 0 in \"", dir.string(), "\"; a data-parallel run needs its run folder on a "
              "filesystem that every rank shares");
  if (group.rank() != 0) {
    progress.loss_sum = 0;
    progress.correct = 0;
    progress.seen = 0;
  }
}

void check_replicas(dist::Group& group, torch::nn::Module& module, int64_t epoch) {
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> mine;
  for (const auto& t : state_tensors(module)) mine.push_back(t.detach().reshape(-1).to(at::kDouble));
  const at::Tensor own = at::cat(mine);
  at::Tensor reference = own.clone();
  group.broadcast(reference, 0);
  const double differ = own.ne(reference).sum().item<double>();
  at::Tensor count = at::full({2}, 0.0, own.options());
  count[0] = differ;
  count[1] = differ > 0 ? 1.0 : 0.0;
  group.allreduce_sum(count);
  count = count.cpu();
  TORCH_CHECK(count[1].item<double>() == 0, "train: after epoch ", epoch, ", ", count[1].item<double>(), " of ",
              group.world_size(), " ranks hold weights that differ from rank 0's (", count[0].item<double>(),
              " values in all); data-parallel replicas diverged");
}

}  // namespace propnet::train::detail
