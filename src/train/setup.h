#pragma once
// What a training run and a benchmark share, so that neither sets up training on its own: the module
// on its device and in its layout, the optimizer, the step runners and the cuDNN flags of the run.
#include <memory>

#include <c10/core/Device.h>

#include <propnet/config.h>
#include <propnet/train/sgd.h>

#include "step_runner.h"

namespace propnet::train::detail {

/// On CUDA devices: makes `device` the current device (code that uses the current one, such as a
/// stream or handle lookup, then lands on the run's GPU rather than on GPU 0) and sets cuDNN's
/// benchmark and deterministic flags from the spec; restores the previous flags when it goes
/// (they are process-wide).
class CudaRunScope {
 public:
  CudaRunScope(const TrainSpec& spec, const c10::Device& device);
  ~CudaRunScope();
  CudaRunScope(const CudaRunScope&) = delete;
  CudaRunScope& operator=(const CudaRunScope&) = delete;

 private:
  bool active_;
  bool benchmark_ = false;
  bool deterministic_ = false;
};

/// The optimizer settings of `spec` (lr, momentum, Nesterov, weight decay).
SGDOptions sgd_options(const TrainSpec& spec);

/// A module ready to train: moved to `device`, its 4-D parameters in channels_last where the spec
/// resolves to it (`resolve_channels_last`), and a `MultiTensorSGD` over the parameters that require grad.
class TrainingSetup {
 public:
  TrainingSetup(Model model, const TrainSpec& spec, const c10::Device& device);

  /// Builds the training and test step runners. Call after restoring a checkpoint (a CUDA graph
  /// captures the tensors as they are then); `sync` averages gradients over data-parallel ranks.
  void make_runners(GradientSync* sync = nullptr);

  const TrainSpec& spec() const { return spec_; }
  const c10::Device& device() const { return device_; }
  bool channels_last() const { return channels_last_; }
  Model& model() { return model_; }
  MultiTensorSGD& optimizer() { return optimizer_; }
  StepRunner& train_step() { return *train_step_; }
  StepRunner& test_step() { return *test_step_; }

 private:
  TrainSpec spec_;
  c10::Device device_;
  CudaRunScope cuda_;
  bool channels_last_;
  Model model_;
  MultiTensorSGD optimizer_;
  std::unique_ptr<StepRunner> train_step_, test_step_;
};

}  // namespace propnet::train::detail
