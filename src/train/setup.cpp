#include "setup.h"

#include <ATen/Context.h>
#include <torch/nn/module.h>

#include <propnet/train/device.h>

#include "../cuda/cuda_info.h"

namespace propnet::train::detail {
namespace {

// The module on the device and in the layout, before the optimizer copies the parameters' placement.
std::vector<at::Tensor> prepared_parameters(Model& model, const c10::Device& device, bool channels_last) {
  model.module->to(device);
  std::vector<at::Tensor> trainable;
  for (auto& p : model.module->parameters()) {
    if (channels_last && p.dim() == 4) p.set_data(to_channels_last(p.data()));
    if (p.requires_grad()) trainable.push_back(p);
  }
  return trainable;
}

}  // namespace

CudaRunScope::CudaRunScope(const TrainSpec& spec, const c10::Device& device) : active_(device.is_cuda()) {
  if (!active_) return;
  propnet::detail::cuda_set_device(device.has_index() ? device.index() : 0);
  auto& context = at::globalContext();
  benchmark_ = context.benchmarkCuDNN();
  deterministic_ = context.deterministicCuDNN();
  context.setBenchmarkCuDNN(!spec.deterministic);
  context.setDeterministicCuDNN(spec.deterministic);
}

CudaRunScope::~CudaRunScope() {
  if (!active_) return;
  at::globalContext().setBenchmarkCuDNN(benchmark_);
  at::globalContext().setDeterministicCuDNN(deterministic_);
}

SGDOptions sgd_options(const TrainSpec& spec) {
  return SGDOptions(spec.lr).momentum(spec.momentum).nesterov(spec.nesterov).weight_decay(spec.weight_decay);
}

TrainingSetup::TrainingSetup(Model model, const TrainSpec& spec, const c10::Device& device)
    : spec_(spec),
      device_(device),
      cuda_(spec, device),
      channels_last_(resolve_channels_last(spec.channels_last, device)),
      model_(std::move(model)),
      optimizer_(prepared_parameters(model_, device_, channels_last_), sgd_options(spec)) {}

void TrainingSetup::make_runners(GradientSync* sync) {
  train_step_ = make_train_runner(model_, optimizer_, spec_, device_, sync);
  test_step_ = make_eval_runner(model_, spec_, device_);
}

}  // namespace propnet::train::detail
