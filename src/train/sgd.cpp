#include <propnet/train/sgd.h>

#include <string>

#include <ATen/core/grad_mode.h>
#include <ATen/ops/_foreach_add.h>
#include <ATen/ops/_foreach_mul.h>
#include <ATen/ops/_foreach_zero.h>
#include <ATen/ops/zeros_like.h>
#include <c10/util/Exception.h>
#include <torch/serialize/archive.h>

namespace propnet::train {

MultiTensorSGD::MultiTensorSGD(std::vector<at::Tensor> parameters, SGDOptions options)
    : options_(options) {
  TORCH_CHECK_VALUE(options_.lr() > 0, "MultiTensorSGD: expected lr > 0 (got ", options_.lr(), ")");
  TORCH_CHECK_VALUE(options_.momentum() >= 0 && options_.momentum() < 1,
                    "MultiTensorSGD: expected momentum in [0, 1) (got ", options_.momentum(), ")");
  TORCH_CHECK_VALUE(!options_.nesterov() || options_.momentum() > 0,
                    "MultiTensorSGD: Nesterov momentum needs momentum > 0");
  TORCH_CHECK_VALUE(options_.weight_decay() >= 0,
                    "MultiTensorSGD: expected weight_decay >= 0 (got ", options_.weight_decay(), ")");
  TORCH_CHECK_VALUE(!parameters.empty(), "MultiTensorSGD: no parameters to optimize");
  for (auto& p : parameters) {
    TORCH_CHECK_VALUE(p.requires_grad(), "MultiTensorSGD: every parameter must require grad");
    // zeros_like keeps the parameter's memory format (channels_last stays channels_last), which
    // autograd's accumulation then preserves.
    if (!p.grad().defined()) p.mutable_grad() = at::zeros_like(p);
    parameters_.push_back(p);  // the parameter itself: it follows set_data()/load() into new storage
    gradients_.push_back(p.grad());
    if (options_.momentum() > 0) momentum_.push_back(at::zeros_like(p));
  }
}

void MultiTensorSGD::zero_grad() { at::_foreach_zero_(gradients_); }

void MultiTensorSGD::step() {
  at::NoGradGuard no_grad;  // updates leaves in place
  for (size_t i = 0; i < parameters_.size(); ++i) {
    // LibTorch 2.x's Module::zero_grad() frees gradients; the next backward makes new ones that
    // this optimizer would never see.
    TORCH_CHECK(parameters_[i].grad().is_same(gradients_[i]), "MultiTensorSGD: the gradient of parameter ", i,
                " was replaced (Module::zero_grad() frees gradients in LibTorch 2.x); call MultiTensorSGD::zero_grad()");
  }
  // torch::optim::SGD, op for op: d_p = g + wd p; buf = m buf + d_p; d_p = d_p + m buf (Nesterov)
  // or d_p = buf; p -= lr d_p. A zero buffer makes the first step's buf = d_p, as its clone does.
  if (options_.weight_decay() != 0) at::_foreach_add_(gradients_, parameters_, options_.weight_decay());
  const std::vector<at::Tensor>* direction = &gradients_;
  if (options_.momentum() > 0) {
    at::_foreach_mul_(momentum_, options_.momentum());
    at::_foreach_add_(momentum_, gradients_);
    if (options_.nesterov()) {
      at::_foreach_add_(gradients_, momentum_, options_.momentum());
    } else {
      direction = &momentum_;
    }
  }
  at::_foreach_add_(parameters_, *direction, -options_.lr());
}

void MultiTensorSGD::set_lr(double lr) {
  TORCH_CHECK_VALUE(lr > 0, "MultiTensorSGD: expected lr > 0 (got ", lr, ")");
  options_.lr(lr);
}

void MultiTensorSGD::save(torch::serialize::OutputArchive& archive) const {
  archive.write("buffers", c10::IValue(static_cast<int64_t>(momentum_.size())));
  for (size_t i = 0; i < momentum_.size(); ++i) {
    archive.write("momentum_buffer." + std::to_string(i), momentum_[i], /*is_buffer=*/true);
  }
}

void MultiTensorSGD::load(torch::serialize::InputArchive& archive) {
  c10::IValue count;
  archive.read("buffers", count);
  TORCH_CHECK(count.toInt() == static_cast<int64_t>(momentum_.size()), "MultiTensorSGD: the archive holds ",
              count.toInt(), " momentum buffers; this optimizer has ", momentum_.size());
  for (size_t i = 0; i < momentum_.size(); ++i) {
    at::Tensor buffer;
    archive.read("momentum_buffer." + std::to_string(i), buffer, /*is_buffer=*/true);
    TORCH_CHECK(buffer.sizes() == momentum_[i].sizes(), "MultiTensorSGD: momentum buffer ", i, " has shape ",
                buffer.sizes(), "; the parameter has ", momentum_[i].sizes());
    momentum_[i].copy_(buffer);  // in place: the buffer's address (and memory format) stay
  }
}

}  // namespace propnet::train
