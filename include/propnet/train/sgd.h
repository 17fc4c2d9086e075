#pragma once
// SGD with (Nesterov) momentum and L2 weight decay over all parameters at once.
#include <vector>

#include <ATen/core/Tensor.h>
#include <torch/arg.h>

namespace torch::serialize {
class InputArchive;
class OutputArchive;
}  // namespace torch::serialize

namespace propnet::train {

/// Options for `MultiTensorSGD`; the defaults are the paper's protocol (spec §6).
struct SGDOptions {
  explicit SGDOptions(double lr = 0.1) : lr_(lr) {}
  /// Learning rate. Set it per epoch with `MultiTensorSGD::set_lr`.
  TORCH_ARG(double, lr);
  /// Momentum factor; 0 is plain SGD.
  TORCH_ARG(double, momentum) = 0.9;
  /// Nesterov momentum (PyTorch's and MXNet NAG's formulation); needs momentum > 0.
  TORCH_ARG(bool, nesterov) = true;
  /// L2 penalty added to every gradient, BN parameters included (as in the reference code).
  TORCH_ARG(double, weight_decay) = 1e-4;
};

/// SGD whose update runs as a handful of multi-tensor (`_foreach_`) kernels over all parameters,
/// instead of torch::optim::SGD's five ops per parameter (one launch each on CUDA). The math and
/// its order are torch::optim::SGD's with dampening 0, so on CPU both give bitwise equal weights.
///
/// Gradients and momentum buffers are allocated at construction and only ever updated in place,
/// so their addresses never change: a captured CUDA graph can replay the whole step. Unlike
/// torch::optim::SGD, a parameter that got no gradient still decays and moves with its momentum.
/// Construct it after the network is on its device and in its memory format: gradients and
/// buffers copy the parameters' placement then.
class MultiTensorSGD {
 public:
  MultiTensorSGD(std::vector<at::Tensor> parameters, SGDOptions options);

  /// Zeroes every gradient in place (never frees it: see the class comment).
  void zero_grad();
  /// One update from the current gradients. The gradients are overwritten (they hold the step).
  void step();

  void set_lr(double lr);
  double lr() const noexcept { return options_.lr(); }
  const SGDOptions& options() const noexcept { return options_; }
  const std::vector<at::Tensor>& parameters() const noexcept { return parameters_; }
  /// The gradient tensors, in parameter order (the same tensors for the optimizer's lifetime).
  const std::vector<at::Tensor>& gradients() const noexcept { return gradients_; }

  /// Writes / reads the momentum buffers ("momentum_buffer.<i>"); the lr comes from the schedule.
  void save(torch::serialize::OutputArchive& archive) const;
  /// Throws c10::Error when the archive holds another number or shape of buffers.
  void load(torch::serialize::InputArchive& archive);

 private:
  SGDOptions options_;
  std::vector<at::Tensor> parameters_;
  std::vector<at::Tensor> gradients_;
  std::vector<at::Tensor> momentum_;
};

}  // namespace propnet::train
