#pragma once
// The fused BN+ReLU kernels behind propnet::batch_norm_relu (batch_norm_relu.cpp), for contiguous
// CPU activations of type T, float or c10::BFloat16 (what a convolution returns under CPU autocast),
// with float32 parameters and statistics: one file per memory format, NCHW (bn_relu_nchw.cpp) and
// channels_last (bn_relu_nhwc.cpp), with the per-channel math both share here. bfloat16 values are
// widened on load and rounded once on store; all arithmetic is float32 (sums: double across blocks).
// Reductions run in a fixed order (NCHW: one thread per channel; channels_last: fixed row chunks
// summed in chunk order), so results do not depend on the thread count.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include <ATen/core/Tensor.h>
#include <c10/util/BFloat16.h>

namespace propnet::detail::bn_relu_kernels {

/// One channel's mean, biased variance and 1 / sqrt(variance + eps) from its sums of (x - shift) and
/// (x - shift)^2 over `count` values.
inline void finish_moments(float shift, double sum, double sum_sq, double count, double eps, float& mean, float& var,
                    float& invstd) {
  const double m = sum / count;
  const double variance = std::max(0.0, sum_sq / count - m * m);
  mean = static_cast<float>(shift + m);
  var = static_cast<float>(variance);
  invstd = static_cast<float>(1.0 / std::sqrt(variance + eps));
}

/// Pointers of one backward call: activations and their gradients of type T, the rest float.
template <typename T>
struct BackwardArgs {
  const T *grad_y, *x, *y;
  const float *weight, *mean, *invstd;
  float floor;  ///< dz = dy where y > floor (0: the ReLU passed, as threshold_backward), else 0
  T* grad_x;
  float *grad_weight, *grad_bias;
};

/// Channel c's weight and bias gradients from its sums of dz and dz * (x - mean) over `count` values,
/// and the factors of grad_x = fa * dz + fb * (x - mean) + fd: the batch-norm gradient with the batch
/// sums folded in.
template <typename T>
inline void finish_backward(const BackwardArgs<T>& a, int64_t c, double sum_dz, double sum_dz_xc, double count,
                            float& fa, float& fb, float& fd) {
  a.grad_bias[c] = static_cast<float>(sum_dz);
  a.grad_weight[c] = static_cast<float>(sum_dz_xc * a.invstd[c]);
  const double scale = static_cast<double>(a.weight[c]) * a.invstd[c];
  fa = static_cast<float>(scale);
  fb = static_cast<float>(-scale * a.invstd[c] * a.invstd[c] * sum_dz_xc / count);
  fd = static_cast<float>(-scale * sum_dz / count);
}

/// The ReLU as a floor: 0 with a ReLU, -inf without (y = max(BN(x), floor)).
inline float relu_floor(bool relu) { return relu ? 0.f : -std::numeric_limits<float>::infinity(); }

/// Per-channel batch mean, biased variance and 1 / sqrt(variance + eps) of x (of type T).
template <typename T>
void moments_nchw(const at::Tensor& x, double eps, float* mean, float* var, float* invstd);
template <typename T>
void moments_nhwc(const at::Tensor& x, double eps, float* mean, float* var, float* invstd);
/// y = max(x * weight * invstd + (bias - mean * weight * invstd), floor), into y (x's layout and type T).
template <typename T>
void normalize_nchw(const at::Tensor& x, const float* weight, const float* bias, const float* mean,
                    const float* invstd, float floor, at::Tensor& y);
template <typename T>
void normalize_nhwc(const at::Tensor& x, const float* weight, const float* bias, const float* mean,
                    const float* invstd, float floor, at::Tensor& y);
/// grad_x, grad_weight and grad_bias of y = max(BN(x), floor), into `args`' outputs.
template <typename T>
void backward_nchw(const at::Tensor& x, const BackwardArgs<T>& args);
template <typename T>
void backward_nhwc(const at::Tensor& x, const BackwardArgs<T>& args);

// Defined for float and c10::BFloat16 (bn_relu_nchw.cpp, bn_relu_nhwc.cpp).
#define PROPNET_BN_RELU_KERNELS(T, layout)                                                                   \
  template void moments_##layout<T>(const at::Tensor&, double, float*, float*, float*);                     \
  template void normalize_##layout<T>(const at::Tensor&, const float*, const float*, const float*,          \
                                      const float*, float, at::Tensor&);                                     \
  template void backward_##layout<T>(const at::Tensor&, const BackwardArgs<T>&);

}  // namespace propnet::detail::bn_relu_kernels
