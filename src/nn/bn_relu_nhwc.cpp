// Fused BN+ReLU kernels for channels_last tensors (float or bfloat16): x viewed as [rows = n * height *
// width][channels], channels contiguous.
#include <vector>

#include <ATen/Parallel.h>

#include "bn_relu_kernels.h"
#include "simd8.h"

namespace propnet::detail::bn_relu_kernels {
namespace {

using simd::Float8;
using simd::kLanes;
using simd::load8;
using simd::splat;
using simd::store8;

/// Rows per reduction chunk: about 16 KiB of floats, so a chunk stays in L1 while each 8-channel
/// block walks it. It depends only on the channel count, never on the thread count.
int64_t rows_per_chunk(int64_t channels) { return std::max<int64_t>(1, 4096 / channels); }

/// Per-channel sums of (a - shift) and (a - shift)^2 over rows [r0, r1), or, with a mask, of
/// dz = (mask > floor ? a : 0) and dz * (b - shift): the two reductions of the forward and backward.
/// Written to sum[c] and sum_sq[c] as doubles; float lanes within the chunk.
template <bool kBackward, typename T>
PROPNET_AVX2_KERNEL PROPNET_INLINE void rows_reduce(int64_t channels, const T* a, const T* b, const T* mask,
                                                    float floor, const float* shift, int64_t r0, int64_t r1,
                                                    double* sum, double* sum_sq) {
  const Float8 floor8 = splat(floor);
  int64_t c = 0;
  for (; c + kLanes <= channels; c += kLanes) {
    const Float8 shift8 = load8(shift + c);
    Float8 s = {}, q = {};
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t o = r * channels + c;
      if constexpr (kBackward) {
        const Float8 dz = load8(mask + o) <= floor8 ? Float8{} : load8(a + o);
        s += dz;
        q += dz * (load8(b + o) - shift8);
      } else {
        const Float8 d = load8(a + o) - shift8;
        s += d;
        q += d * d;
      }
    }
    for (int64_t l = 0; l < kLanes; ++l) {
      sum[c + l] = s[l];
      sum_sq[c + l] = q[l];
    }
  }
  for (; c < channels; ++c) {  // channel counts that are not a multiple of 8
    float s = 0, q = 0;
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t o = r * channels + c;
      if constexpr (kBackward) {
        const float dz = static_cast<float>(mask[o]) <= floor ? 0.f : static_cast<float>(a[o]);
        s += dz;
        q += dz * (static_cast<float>(b[o]) - shift[c]);
      } else {
        const float d = static_cast<float>(a[o]) - shift[c];
        s += d;
        q += d * d;
      }
    }
    sum[c] = s;
    sum_sq[c] = q;
  }
}

template <typename T>
PROPNET_AVX2_KERNEL void rows_reduce_forward(int64_t channels, const T* x, const float* shift, int64_t r0,
                                             int64_t r1, double* sum, double* sum_sq) {
  rows_reduce<false, T>(channels, x, nullptr, nullptr, 0.f, shift, r0, r1, sum, sum_sq);
}
template <typename T>
PROPNET_AVX2_KERNEL void rows_reduce_backward(int64_t channels, const T* grad_y, const T* x, const T* y,
                                              float floor, const float* mean, int64_t r0, int64_t r1, double* sum,
                                              double* sum_sq) {
  rows_reduce<true, T>(channels, grad_y, x, y, floor, mean, r0, r1, sum, sum_sq);
}

/// Both per-channel sums over all rows: chunks in parallel, then added in chunk order (deterministic).
template <typename ReduceChunk>
void reduce_rows(int64_t rows, int64_t channels, double* sum, double* sum_sq, const ReduceChunk& reduce_chunk) {
  const int64_t chunk = rows_per_chunk(channels), chunks = (rows + chunk - 1) / chunk;
  std::vector<double> partial(static_cast<size_t>(chunks * 2 * channels));
  at::parallel_for(0, chunks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t k = begin; k < end; ++k) {
      double* out = partial.data() + k * 2 * channels;
      reduce_chunk(k * chunk, std::min(rows, (k + 1) * chunk), out, out + channels);
    }
  });
  std::fill(sum, sum + channels, 0.0);
  std::fill(sum_sq, sum_sq + channels, 0.0);
  for (int64_t k = 0; k < chunks; ++k) {
    const double* in = partial.data() + k * 2 * channels;
    for (int64_t c = 0; c < channels; ++c) {
      sum[c] += in[c];
      sum_sq[c] += in[channels + c];
    }
  }
}

/// out = max(in * scale + shift, floor) per channel (scale, shift: per-channel arrays), rows [r0, r1).
template <typename T>
PROPNET_AVX2_KERNEL void rows_normalize(int64_t channels, const T* in, const float* scale, const float* shift,
                                        float floor, T* out, int64_t r0, int64_t r1) {
  const Float8 floor8 = splat(floor);
  for (int64_t r = r0; r < r1; ++r) {
    const T* row = in + r * channels;
    T* dst = out + r * channels;
    int64_t c = 0;
    for (; c + kLanes <= channels; c += kLanes) {
      const Float8 v = load8(row + c) * load8(scale + c) + load8(shift + c);
      store8(dst + c, v < floor8 ? Float8{} : v);
    }
    for (; c < channels; ++c) {
      const float v = static_cast<float>(row[c]) * scale[c] + shift[c];
      dst[c] = v < floor ? 0.f : v;
    }
  }
}

/// grad_x = fa * dz + fb * (x - mean) + fd per channel on rows [r0, r1), dz = y > floor ? dy : 0.
template <typename T>
PROPNET_AVX2_KERNEL void rows_backward(int64_t channels, const BackwardArgs<T> a, const float* fa, const float* fb,
                                       const float* fd, int64_t r0, int64_t r1) {
  const Float8 floor8 = splat(a.floor);
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t o = r * channels;
    int64_t c = 0;
    for (; c + kLanes <= channels; c += kLanes) {
      const Float8 dz = load8(a.y + o + c) <= floor8 ? Float8{} : load8(a.grad_y + o + c);
      store8(a.grad_x + o + c,
             load8(fa + c) * dz + load8(fb + c) * (load8(a.x + o + c) - load8(a.mean + c)) + load8(fd + c));
    }
    for (; c < channels; ++c) {
      const float dz = static_cast<float>(a.y[o + c]) <= a.floor ? 0.f : static_cast<float>(a.grad_y[o + c]);
      a.grad_x[o + c] = fa[c] * dz + fb[c] * (static_cast<float>(a.x[o + c]) - a.mean[c]) + fd[c];
    }
  }
}

/// Rows of one parallel_for task for the elementwise channels_last passes (>= 32 KiB of floats).
int64_t elementwise_grain(int64_t channels) { return std::max<int64_t>(1, 8192 / channels); }

}  // namespace

template <typename T>
void moments_nhwc(const at::Tensor& x, double eps, float* mean, float* var, float* invstd) {
  const int64_t channels = x.size(1), rows = x.numel() / channels;
  const T* in = x.data_ptr<T>();
  const std::vector<float> shift(in, in + channels);  // the first row: a value of each channel
  std::vector<double> sum(channels), sum_sq(channels);
  reduce_rows(rows, channels, sum.data(), sum_sq.data(), [&](int64_t r0, int64_t r1, double* s, double* q) {
    rows_reduce_forward(channels, in, shift.data(), r0, r1, s, q);
  });
  for (int64_t c = 0; c < channels; ++c)
    finish_moments(shift[c], sum[c], sum_sq[c], static_cast<double>(rows), eps, mean[c], var[c], invstd[c]);
}

template <typename T>
void normalize_nhwc(const at::Tensor& x, const float* weight, const float* bias, const float* mean,
                    const float* invstd, float floor, at::Tensor& y) {
  const int64_t channels = x.size(1), rows = x.numel() / channels;
  std::vector<float> scale(channels), shift(channels);
  for (int64_t c = 0; c < channels; ++c) {
    scale[c] = weight[c] * invstd[c];
    shift[c] = bias[c] - mean[c] * scale[c];
  }
  at::parallel_for(0, rows, elementwise_grain(channels), [&](int64_t begin, int64_t end) {
    rows_normalize(channels, x.data_ptr<T>(), scale.data(), shift.data(), floor, y.data_ptr<T>(), begin, end);
  });
}

template <typename T>
void backward_nhwc(const at::Tensor& x, const BackwardArgs<T>& args) {
  const int64_t channels = x.size(1), rows = x.numel() / channels;
  std::vector<double> sum_dz(channels), sum_dz_xc(channels);
  reduce_rows(rows, channels, sum_dz.data(), sum_dz_xc.data(), [&](int64_t r0, int64_t r1, double* s, double* q) {
    rows_reduce_backward(channels, args.grad_y, args.x, args.y, args.floor, args.mean, r0, r1, s, q);
  });
  std::vector<float> fa(channels), fb(channels), fd(channels);
  for (int64_t c = 0; c < channels; ++c)
    finish_backward(args, c, sum_dz[c], sum_dz_xc[c], static_cast<double>(rows), fa[c], fb[c], fd[c]);
  at::parallel_for(0, rows, elementwise_grain(channels), [&](int64_t begin, int64_t end) {
    rows_backward(channels, args, fa.data(), fb.data(), fd.data(), begin, end);
  });
}

PROPNET_BN_RELU_KERNELS(float, nhwc)
PROPNET_BN_RELU_KERNELS(c10::BFloat16, nhwc)

}  // namespace propnet::detail::bn_relu_kernels
