#include "step_runner.h"

#include <ATen/core/grad_mode.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/full.h>
#include <c10/util/Exception.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/modules/container/any.h>

#include <propnet/choices.h>
#include <propnet/train/device.h>
#include <propnet/train/precision.h>

#include "loss_scaler.h"
#include "gradient_sync.h"

namespace propnet::train::detail {
namespace {

namespace F = torch::nn::functional;

// Adds `scale` x `loss` and the batch's correct count to the device sums (no host sync).
void accumulate(DeviceSums& sums, const at::Tensor& loss, double scale, const at::Tensor& logits,
                const at::Tensor& labels) {
  sums.loss_sum.add_(loss.detach().to(at::kDouble), scale);
  sums.correct.add_(logits.detach().argmax(1).eq(labels).sum());
}

}  // namespace

Model Model::of(torch::nn::AnyModule any) {
  auto shared = std::make_shared<torch::nn::AnyModule>(std::move(any));
  TORCH_CHECK_VALUE(!shared->is_empty(), "Trainer: expected a module (got an empty AnyModule)");
  return {shared->ptr(), [shared](const at::Tensor& x) { return shared->forward(x); }};
}

DeviceSums::DeviceSums(const c10::Device& device)
    : loss_sum(at::full({}, 0.0, at::TensorOptions().device(device).dtype(at::kDouble))),
      correct(at::full({}, 0, at::TensorOptions().device(device).dtype(at::kLong))) {}

void DeviceSums::reset(double loss, int64_t count) {
  loss_sum.fill_(loss);
  correct.fill_(count);
}

EagerTrainStep::EagerTrainStep(Model model, MultiTensorSGD& optimizer, const TrainSpec& spec,
                               const c10::Device& device, std::shared_ptr<DeviceSums> sums, GradientSync* sync)
    : StepRunner(sums ? std::move(sums) : std::make_shared<DeviceSums>(device)),
      model_(std::move(model)),
      optimizer_(optimizer),
      device_(device),
      amp_(spec.amp),
      bn_batch_(spec.bn_batch),
      sync_(sync) {
  if (uses_autocast(spec.amp, device) && spec.amp == Amp::kFp16) scaler_ = std::make_unique<LossScaler>();
}

EagerTrainStep::~EagerTrainStep() = default;

void EagerTrainStep::run(const at::Tensor& images, const at::Tensor& labels) {
  optimizer_.zero_grad();
  at::Tensor logits, loss;
  at::Tensor targets = labels;
  {
    AutocastScope autocast(device_, amp_);
    const int64_t n = images.size(0);
    if (bn_batch_ > 0 && n > bn_batch_) {
      // Ghost BN: chunk c takes images c, c+K, ...; logits and labels are concatenated in chunk order.
      const int64_t chunks = (n + bn_batch_ - 1) / bn_batch_;
      std::vector<at::Tensor> parts, part_labels;
      for (int64_t c = 0; c < chunks; ++c) {
        parts.push_back(model_.forward(images.slice(0, c, n, chunks)));
        part_labels.push_back(labels.slice(0, c, n, chunks));
      }
      logits = at::cat(parts);
      targets = at::cat(part_labels);
    } else {
      logits = model_.forward(images);
    }
    loss = F::cross_entropy(logits.to(at::kFloat), targets);
  }
  if (scaler_) {
    scaler_->scale(loss).backward();
    if (sync_) sync_->run();  // before the inf check, so that every rank skips the same steps
    if (scaler_->unscale(optimizer_.gradients())) optimizer_.step();
    scaler_->update();
  } else {
    loss.backward();
    if (sync_) sync_->run();
    optimizer_.step();
  }
  accumulate(*sums_, loss, static_cast<double>(images.size(0)), logits, targets);
}

EagerEvalStep::EagerEvalStep(Model model, const TrainSpec& spec, const c10::Device& device,
                             std::shared_ptr<DeviceSums> sums)
    : StepRunner(sums ? std::move(sums) : std::make_shared<DeviceSums>(device)),
      model_(std::move(model)),
      device_(device),
      amp_(spec.amp) {}

void EagerEvalStep::run(const at::Tensor& images, const at::Tensor& labels) {
  at::NoGradGuard no_grad;
  at::Tensor logits;
  {
    AutocastScope autocast(device_, amp_);
    logits = model_.forward(images).to(at::kFloat);
  }
  accumulate(*sums_, F::cross_entropy(logits, labels, F::CrossEntropyFuncOptions().reduction(torch::kSum)), 1.0,
             logits, labels);
}

std::unique_ptr<StepRunner> make_train_runner(Model model, MultiTensorSGD& optimizer, const TrainSpec& spec,
                                              const c10::Device& device, GradientSync* sync) {
  check_device_rules(spec, device, sync ? sync->group()->world_size() : 1);
  if (spec.cuda_graph) return make_cuda_graph_train_runner(std::move(model), optimizer, spec, device);
  return std::make_unique<EagerTrainStep>(std::move(model), optimizer, spec, device, nullptr, sync);
}

std::unique_ptr<StepRunner> make_eval_runner(Model model, const TrainSpec& spec, const c10::Device& device) {
  check_device_rules(spec, device);
  if (spec.cuda_graph) return make_cuda_graph_eval_runner(std::move(model), spec, device);
  return std::make_unique<EagerEvalStep>(std::move(model), spec, device);
}

}  // namespace propnet::train::detail
