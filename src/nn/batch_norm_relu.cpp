// Fused training-mode BatchNorm2d + ReLU for contiguous CPU tensors, NCHW or channels_last, float32 or
// bfloat16 activations (a convolution's output under CPU autocast) with float32 parameters.
//
// Unfused, one BN-ReLU pair reads or writes an activation-sized tensor 13-14 times per step (BN
// statistics, normalise, ReLU, ReLU backward, BN backward reduction, BN backward); fused it is 10
// (statistics: x; normalise + ReLU: x, y; masked reduction: dy, y, x; gradient: dy, y, x, dx).
// The kernels are in bn_relu_kernels.h; this file picks the layout's and wires them into autograd.
#include <propnet/nn/batch_norm_relu.h>

#include <cstdlib>
#include <cstring>

#include <ATen/core/grad_mode.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/empty_like.h>
#include <ATen/ops/relu.h>
#include <c10/util/Exception.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/nn/modules/batchnorm.h>

#include "bn_relu_kernels.h"
#include "simd8.h"

namespace propnet {
namespace {

using detail::bn_relu_kernels::BackwardArgs;
using detail::bn_relu_kernels::relu_floor;

bool fused_path_enabled() {
  static const bool enabled = [] {
    const char* flag = std::getenv("PROPNET_FUSED_BN_RELU");
    return flag == nullptr || std::strcmp(flag, "0") != 0;
  }();
  return enabled;
}

/// NCHW-contiguous tensors take the planes kernels; channels_last ones (and only they) the rows kernels.
bool is_nhwc(const at::Tensor& x) { return !x.is_contiguous() && x.is_contiguous(at::MemoryFormat::ChannelsLast); }

/// Calls `run(T{})` with T the element type of the activation x: float or c10::BFloat16.
template <typename Run>
void with_activation_type(const at::Tensor& x, const Run& run) {
  if (x.scalar_type() == at::kBFloat16) {
    run(c10::BFloat16{});
  } else {
    run(float{});
  }
}

/// x's per-channel batch mean, biased variance and inverse standard deviation.
void batch_moments(const at::Tensor& x, double eps, float* mean, float* var, float* invstd) {
  with_activation_type(x, [&](auto type) {
    using T = decltype(type);
    if (is_nhwc(x)) {
      detail::bn_relu_kernels::moments_nhwc<T>(x, eps, mean, var, invstd);
    } else {
      detail::bn_relu_kernels::moments_nchw<T>(x, eps, mean, var, invstd);
    }
  });
}

at::Tensor normalize(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, const at::Tensor& mean,
                     const at::Tensor& invstd, bool relu) {
  at::Tensor y = at::empty_like(x);  // keeps x's memory format
  const float *w = weight.data_ptr<float>(), *b = bias.data_ptr<float>(), *m = mean.data_ptr<float>(),
              *is = invstd.data_ptr<float>();
  with_activation_type(x, [&](auto type) {
    using T = decltype(type);
    if (is_nhwc(x)) {
      detail::bn_relu_kernels::normalize_nhwc<T>(x, w, b, m, is, relu_floor(relu), y);
    } else {
      detail::bn_relu_kernels::normalize_nchw<T>(x, w, b, m, is, relu_floor(relu), y);
    }
  });
  return y;
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> normalize_backward(const at::Tensor& grad_y, const at::Tensor& x,
                                                                  const at::Tensor& y, const at::Tensor& weight,
                                                                  const at::Tensor& mean, const at::Tensor& invstd,
                                                                  bool relu) {
  const bool nhwc = is_nhwc(x);
  // The gradient arrives in y's type (autograd casts it; .to() only guards), in whatever layout the next
  // layer left it.
  const at::Tensor dy =
      grad_y.to(x.scalar_type()).contiguous(nhwc ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous);
  at::Tensor grad_x = at::empty_like(x);
  at::Tensor grad_weight = at::empty_like(weight), grad_bias = at::empty_like(weight);
  with_activation_type(x, [&](auto type) {
    using T = decltype(type);
    const BackwardArgs<T> args{dy.data_ptr<T>(),         x.data_ptr<T>(),           y.data_ptr<T>(),
                               weight.data_ptr<float>(), mean.data_ptr<float>(),    invstd.data_ptr<float>(),
                               relu_floor(relu),         grad_x.data_ptr<T>(),      grad_weight.data_ptr<float>(),
                               grad_bias.data_ptr<float>()};
    if (nhwc) {
      detail::bn_relu_kernels::backward_nhwc<T>(x, args);
    } else {
      detail::bn_relu_kernels::backward_nchw<T>(x, args);
    }
  });
  return {grad_x, grad_weight, grad_bias};
}

/// What BatchNorm2d's forward does to its buffers: count the batch, blend in its mean and unbiased variance.
/// One loop over the channels: mul_ and add_ with scalars would dispatch four ops per BN and step and turn each
/// scalar into a tensor (under autocast, a conversion each).
void update_running_stats(torch::nn::BatchNorm2dImpl& bn, const float* mean, const float* var, double count) {
  at::NoGradGuard no_grad;
  bn.num_batches_tracked.add_(1);
  const double factor = bn.options.momentum() ? *bn.options.momentum()
                                              : 1.0 / bn.num_batches_tracked.item<double>();
  const float keep = static_cast<float>(1.0 - factor), blend = static_cast<float>(factor);
  const float blend_var = static_cast<float>(factor * count / (count - 1.0));
  float *running_mean = bn.running_mean.data_ptr<float>(), *running_var = bn.running_var.data_ptr<float>();
  for (int64_t c = 0; c < bn.running_mean.numel(); ++c) {
    running_mean[c] = running_mean[c] * keep + mean[c] * blend;
    running_var[c] = running_var[c] * keep + var[c] * blend_var;
  }
}

struct BatchNormReluFunction : torch::autograd::Function<BatchNormReluFunction> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight,
                            const at::Tensor& bias, const at::Tensor& mean, const at::Tensor& invstd, bool relu) {
    at::Tensor y = normalize(x, weight, bias, mean, invstd, relu);
    ctx->save_for_backward({x, y, weight, mean, invstd});
    ctx->saved_data["relu"] = relu;
    return y;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    TORCH_CHECK(!at::GradMode::is_enabled(),
                "batch_norm_relu: double backward is not supported on the fused CPU path; "
                "set PROPNET_FUSED_BN_RELU=0 to use BatchNorm2d + ReLU");
    const auto saved = ctx->get_saved_variables();
    auto [grad_x, grad_weight, grad_bias] =
        normalize_backward(grads[0], saved[0], saved[1], saved[2], saved[3], saved[4], ctx->saved_data["relu"].toBool());
    return {grad_x, grad_weight, grad_bias, at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

bool fused_batch_norm_relu_available() { return fused_path_enabled() && detail::simd::cpu_runs_kernels(); }

bool batch_norm_relu_is_fused(const torch::nn::BatchNorm2dImpl& bn, const at::Tensor& x) {
  const auto& o = bn.options;
  const auto cpu_dense = [](const at::Tensor& t) {
    return t.defined() && t.device().is_cpu() && t.layout() == at::kStrided;
  };
  const auto is_cpu_float = [&](const at::Tensor& t) {
    return cpu_dense(t) && t.scalar_type() == at::kFloat && t.is_contiguous();
  };
  // Activations in float32, or in bfloat16 under CPU autocast (the parameters stay float32).
  const bool activation_type = x.scalar_type() == at::kFloat || x.scalar_type() == at::kBFloat16;
  return fused_batch_norm_relu_available() && bn.is_training() && o.affine() && o.track_running_stats() &&
         cpu_dense(x) && activation_type && x.dim() == 4 &&
         (x.is_contiguous() || x.is_contiguous(at::MemoryFormat::ChannelsLast)) &&
         x.size(0) * x.size(2) * x.size(3) > 1 && x.size(1) == o.num_features() &&
         is_cpu_float(bn.weight) && is_cpu_float(bn.bias) && is_cpu_float(bn.running_mean) &&
         is_cpu_float(bn.running_var) && bn.num_batches_tracked.defined();
}

at::Tensor batch_norm_relu(torch::nn::BatchNorm2dImpl& bn, const at::Tensor& x, bool relu) {
  if (!batch_norm_relu_is_fused(bn, x)) {
    const at::Tensor y = bn.forward(x);
    return relu ? at::relu(y) : y;
  }
  const int64_t channels = x.size(1);
  const auto stats = x.options().dtype(at::kFloat);  // float32 statistics, also for bfloat16 activations
  at::Tensor mean = at::empty({channels}, stats), var = at::empty({channels}, stats);
  at::Tensor invstd = at::empty({channels}, stats);
  batch_moments(x, bn.options.eps(), mean.data_ptr<float>(), var.data_ptr<float>(), invstd.data_ptr<float>());
  update_running_stats(bn, mean.data_ptr<float>(), var.data_ptr<float>(),
                       static_cast<double>(x.size(0) * x.size(2) * x.size(3)));
  return BatchNormReluFunction::apply(x, bn.weight, bn.bias, mean, invstd, relu);
}

}  // namespace propnet
