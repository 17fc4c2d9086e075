// Fused BN+ReLU kernels for NCHW-contiguous tensors (float or bfloat16): x viewed as [n][channel][plane].
#include <ATen/Parallel.h>

#include "bn_relu_kernels.h"
#include "simd8.h"

namespace propnet::detail::bn_relu_kernels {
namespace {

using simd::Float8;
using simd::kLanes;
using simd::lane_sum;
using simd::load8;
using simd::splat;
using simd::store8;

/// x viewed as [n][channel][plane] with `plane` contiguous values.
struct Planes {
  int64_t n, channels, plane;
  int64_t count() const { return n * plane; }  ///< values per channel
  int64_t offset(int64_t i, int64_t c) const { return (i * channels + c) * plane; }
};

Planes planes_of(const at::Tensor& x) { return {x.size(0), x.size(1), x.size(2) * x.size(3)}; }

/// Per-channel mean, biased variance and 1 / sqrt(variance + eps) of channels [begin, end). Sums are
/// shifted by the channel's first value (no cancellation for large means), kept in float lanes within
/// a plane and in double across planes.
template <typename T>
PROPNET_AVX2_KERNEL void channel_moments(const Planes p, const T* in, double eps, float* mean, float* var,
                                        float* invstd, int64_t begin, int64_t end) {
  for (int64_t c = begin; c < end; ++c) {
    const float shift = static_cast<float>(in[p.offset(0, c)]);
    const Float8 shift8 = splat(shift);
    double sum = 0, sum_sq = 0;
    for (int64_t i = 0; i < p.n; ++i) {
      const T* row = in + p.offset(i, c);
      Float8 s = {}, q = {};
      float s_tail = 0, q_tail = 0;
      int64_t k = 0;
      for (; k + kLanes <= p.plane; k += kLanes) {
        const Float8 d = load8(row + k) - shift8;
        s += d;
        q += d * d;
      }
      for (; k < p.plane; ++k) {
        const float d = static_cast<float>(row[k]) - shift;
        s_tail += d;
        q_tail += d * d;
      }
      sum += lane_sum(s) + s_tail;
      sum_sq += lane_sum(q) + q_tail;
    }
    finish_moments(shift, sum, sum_sq, static_cast<double>(p.count()), eps, mean[c], var[c], invstd[c]);
  }
}

/// y = max(x * scale + shift, floor) on rows [begin, end) of [n * channels][plane], with scale =
/// weight * invstd and shift = bias - mean * scale. A floor of 0 is the ReLU, -inf none; `v < floor ?
/// 0 : v` keeps NaN, as at::relu does, so a diverging run still shows NaN.
template <typename T>
PROPNET_AVX2_KERNEL void normalize_rows(const Planes p, const T* in, const float* weight, const float* bias,
                                       const float* mean, const float* invstd, float floor, T* out, int64_t begin,
                                       int64_t end) {
  for (int64_t r = begin; r < end; ++r) {
    const int64_t c = r % p.channels;
    const float scale = weight[c] * invstd[c], shift = bias[c] - mean[c] * scale;
    const T* row = in + r * p.plane;
    T* dst = out + r * p.plane;
    const Float8 scale8 = splat(scale), shift8 = splat(shift), floor8 = splat(floor);
    int64_t k = 0;
    for (; k + kLanes <= p.plane; k += kLanes) {
      const Float8 v = load8(row + k) * scale8 + shift8;
      store8(dst + k, v < floor8 ? Float8{} : v);
    }
    for (; k < p.plane; ++k) {
      const float v = static_cast<float>(row[k]) * scale + shift;
      dst[k] = v < floor ? 0.f : v;
    }
  }
}

/// Gradients of y = max(BN(x), floor) for channels [begin, end).
template <typename T>
PROPNET_AVX2_KERNEL void backward_channels(const Planes p, const BackwardArgs<T> a, int64_t begin, int64_t end) {
  const double count = static_cast<double>(p.count());
  for (int64_t c = begin; c < end; ++c) {
    const float m = a.mean[c];
    const Float8 m8 = splat(m), floor8 = splat(a.floor);
    double sum_dz = 0, sum_dz_xc = 0;  // sum(dz) and sum(dz * (x - mean))
    for (int64_t i = 0; i < p.n; ++i) {
      const int64_t o = p.offset(i, c);
      Float8 s = {}, q = {};
      float s_tail = 0, q_tail = 0;
      int64_t k = 0;
      for (; k + kLanes <= p.plane; k += kLanes) {
        const Float8 dz = load8(a.y + o + k) <= floor8 ? Float8{} : load8(a.grad_y + o + k);
        s += dz;
        q += dz * (load8(a.x + o + k) - m8);
      }
      for (; k < p.plane; ++k) {
        const float dz = static_cast<float>(a.y[o + k]) <= a.floor ? 0.f : static_cast<float>(a.grad_y[o + k]);
        s_tail += dz;
        q_tail += dz * (static_cast<float>(a.x[o + k]) - m);
      }
      sum_dz += lane_sum(s) + s_tail;
      sum_dz_xc += lane_sum(q) + q_tail;
    }
    float fa, fb, fd;
    finish_backward(a, c, sum_dz, sum_dz_xc, count, fa, fb, fd);
    const Float8 fa8 = splat(fa), fb8 = splat(fb), fd8 = splat(fd);
    for (int64_t i = 0; i < p.n; ++i) {
      const int64_t o = p.offset(i, c);
      int64_t k = 0;
      for (; k + kLanes <= p.plane; k += kLanes) {
        const Float8 dz = load8(a.y + o + k) <= floor8 ? Float8{} : load8(a.grad_y + o + k);
        store8(a.grad_x + o + k, fa8 * dz + fb8 * (load8(a.x + o + k) - m8) + fd8);
      }
      for (; k < p.plane; ++k) {
        const float dz = static_cast<float>(a.y[o + k]) <= a.floor ? 0.f : static_cast<float>(a.grad_y[o + k]);
        a.grad_x[o + k] = fa * dz + fb * (static_cast<float>(a.x[o + k]) - m) + fd;
      }
    }
  }
}

}  // namespace

template <typename T>
void moments_nchw(const at::Tensor& x, double eps, float* mean, float* var, float* invstd) {
  at::parallel_for(0, x.size(1), 1, [&](int64_t begin, int64_t end) {
    channel_moments(planes_of(x), x.data_ptr<T>(), eps, mean, var, invstd, begin, end);
  });
}

template <typename T>
void normalize_nchw(const at::Tensor& x, const float* weight, const float* bias, const float* mean,
                    const float* invstd, float floor, at::Tensor& y) {
  const Planes p = planes_of(x);
  at::parallel_for(0, p.n * p.channels, 1, [&](int64_t begin, int64_t end) {
    normalize_rows(p, x.data_ptr<T>(), weight, bias, mean, invstd, floor, y.data_ptr<T>(), begin, end);
  });
}

template <typename T>
void backward_nchw(const at::Tensor& x, const BackwardArgs<T>& args) {
  const Planes p = planes_of(x);
  at::parallel_for(0, p.channels, 1, [&](int64_t begin, int64_t end) { backward_channels(p, args, begin, end); });
}

PROPNET_BN_RELU_KERNELS(float, nchw)
PROPNET_BN_RELU_KERNELS(c10::BFloat16, nchw)

}  // namespace propnet::detail::bn_relu_kernels
