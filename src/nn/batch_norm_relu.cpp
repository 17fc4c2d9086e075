// Fused training-mode BatchNorm2d + ReLU for contiguous float32 CPU tensors, NCHW or channels_last.
//
// Unfused, one BN-ReLU pair reads or writes an activation-sized tensor 13-14 times per step (BN
// statistics, normalise, ReLU, ReLU backward, BN backward reduction, BN backward); fused it is 10
// (statistics: x; normalise + ReLU: x, y; masked reduction: dy, y, x; gradient: dy, y, x, dx).
// Reductions run in a fixed order (NCHW: one thread per channel; channels_last: fixed row chunks summed
// in chunk order), so results do not depend on the thread count.
#include <propnet/nn/batch_norm_relu.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <vector>

#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/empty_like.h>
#include <ATen/ops/relu.h>
#include <c10/util/Exception.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/nn/modules/batchnorm.h>

namespace propnet {
namespace {

// Eight floats as one value: GCC and Clang compile its arithmetic to SIMD instructions (one AVX2
// register in the AVX2 kernels below), so these loops vectorise whatever the optimisation level.
// The helpers are always inlined, so GCC's note that passing it by value has no stable ABI without
// AVX (-Wpsabi) does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"
typedef float Float8 __attribute__((vector_size(32)));
#define PROPNET_INLINE inline __attribute__((always_inline))  // always inlined into the AVX2 kernels
constexpr int64_t kLanes = 8;

PROPNET_INLINE Float8 load8(const float* p) {
  Float8 v;
  std::memcpy(&v, p, sizeof v);  // unaligned load
  return v;
}
PROPNET_INLINE void store8(float* p, Float8 v) { std::memcpy(p, &v, sizeof v); }
// An explicit broadcast: GCC lowers `vector < scalar` lane by lane.
PROPNET_INLINE Float8 splat(float v) { return Float8{} + v; }
PROPNET_INLINE double lane_sum(Float8 v) {
  double total = 0;
  for (int64_t l = 0; l < kLanes; ++l) total += v[l];
  return total;
}

// The kernels are compiled for AVX2 + FMA, where 8-float vectors are one register, and run only on CPUs
// that have them (LibTorch dispatches its own CPU kernels by CPU features too). Elsewhere (older x86,
// other architectures) batch_norm_relu takes the unfused path rather than a slower generic build.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define PROPNET_AVX2_KERNEL __attribute__((target("avx2,fma")))
bool cpu_runs_kernels() {
  static const bool supported = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return supported;
}
#else
#define PROPNET_AVX2_KERNEL
bool cpu_runs_kernels() { return false; }
#endif

bool fused_path_enabled() {
  static const bool enabled = [] {
    const char* flag = std::getenv("PROPNET_FUSED_BN_RELU");
    return flag == nullptr || std::strcmp(flag, "0") != 0;
  }();
  return enabled;
}

/// x viewed as [n][channel][plane] with `plane` contiguous floats.
struct Planes {
  int64_t n, channels, plane;
  int64_t count() const { return n * plane; }  ///< values per channel
  int64_t offset(int64_t i, int64_t c) const { return (i * channels + c) * plane; }
};

Planes planes_of(const at::Tensor& x) { return {x.size(0), x.size(1), x.size(2) * x.size(3)}; }

/// One channel's mean, biased variance and 1 / sqrt(variance + eps) from its sums of (x - shift) and
/// (x - shift)^2 over `count` values.
void finish_moments(float shift, double sum, double sum_sq, double count, double eps, float& mean, float& var,
                    float& invstd) {
  const double m = sum / count;
  const double variance = std::max(0.0, sum_sq / count - m * m);
  mean = static_cast<float>(shift + m);
  var = static_cast<float>(variance);
  invstd = static_cast<float>(1.0 / std::sqrt(variance + eps));
}

/// Per-channel mean, biased variance and 1 / sqrt(variance + eps) of channels [begin, end). Sums are
/// shifted by the channel's first value (no cancellation for large means), kept in float lanes within
/// a plane and in double across planes.
PROPNET_AVX2_KERNEL void channel_moments(const Planes p, const float* in, double eps, float* mean, float* var,
                                        float* invstd, int64_t begin, int64_t end) {
  for (int64_t c = begin; c < end; ++c) {
    const float shift = in[p.offset(0, c)];
    const Float8 shift8 = splat(shift);
    double sum = 0, sum_sq = 0;
    for (int64_t i = 0; i < p.n; ++i) {
      const float* row = in + p.offset(i, c);
      Float8 s = {}, q = {};
      float s_tail = 0, q_tail = 0;
      int64_t k = 0;
      for (; k + kLanes <= p.plane; k += kLanes) {
        const Float8 d = load8(row + k) - shift8;
        s += d;
        q += d * d;
      }
      for (; k < p.plane; ++k) {
        const float d = row[k] - shift;
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
PROPNET_AVX2_KERNEL void normalize_rows(const Planes p, const float* in, const float* weight, const float* bias,
                                       const float* mean, const float* invstd, float floor, float* out,
                                       int64_t begin, int64_t end) {
  for (int64_t r = begin; r < end; ++r) {
    const int64_t c = r % p.channels;
    const float scale = weight[c] * invstd[c], shift = bias[c] - mean[c] * scale;
    const float* row = in + r * p.plane;
    float* dst = out + r * p.plane;
    const Float8 scale8 = splat(scale), shift8 = splat(shift), floor8 = splat(floor);
    int64_t k = 0;
    for (; k + kLanes <= p.plane; k += kLanes) {
      const Float8 v = load8(row + k) * scale8 + shift8;
      store8(dst + k, v < floor8 ? Float8{} : v);
    }
    for (; k < p.plane; ++k) {
      const float v = row[k] * scale + shift;
      dst[k] = v < floor ? 0.f : v;
    }
  }
}

/// Pointers of one backward call.
struct BackwardArgs {
  const float *grad_y, *x, *y, *weight, *mean, *invstd;
  float floor;  ///< dz = dy where y > floor (0: the ReLU passed, as threshold_backward), else 0
  float *grad_x, *grad_weight, *grad_bias;
};

/// Channel c's weight and bias gradients from its sums of dz and dz * (x - mean) over `count` values,
/// and the factors of grad_x = fa * dz + fb * (x - mean) + fd: the batch-norm gradient with the batch
/// sums folded in.
void finish_backward(const BackwardArgs& a, int64_t c, double sum_dz, double sum_dz_xc, double count, float& fa,
                     float& fb, float& fd) {
  a.grad_bias[c] = static_cast<float>(sum_dz);
  a.grad_weight[c] = static_cast<float>(sum_dz_xc * a.invstd[c]);
  const double scale = static_cast<double>(a.weight[c]) * a.invstd[c];
  fa = static_cast<float>(scale);
  fb = static_cast<float>(-scale * a.invstd[c] * a.invstd[c] * sum_dz_xc / count);
  fd = static_cast<float>(-scale * sum_dz / count);
}

/// Gradients of y = max(BN(x), floor) for channels [begin, end).
PROPNET_AVX2_KERNEL void backward_channels(const Planes p, const BackwardArgs a, int64_t begin, int64_t end) {
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
        const float dz = a.y[o + k] <= a.floor ? 0.f : a.grad_y[o + k];
        s_tail += dz;
        q_tail += dz * (a.x[o + k] - m);
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
        const float dz = a.y[o + k] <= a.floor ? 0.f : a.grad_y[o + k];
        a.grad_x[o + k] = fa * dz + fb * (a.x[o + k] - m) + fd;
      }
    }
  }
}

// ---- channels_last: x viewed as [rows = n * height * width][channels], channels contiguous ----

/// Rows per reduction chunk: about 16 KiB of floats, so a chunk stays in L1 while each 8-channel
/// block walks it. It depends only on the channel count, never on the thread count.
int64_t rows_per_chunk(int64_t channels) { return std::max<int64_t>(1, 4096 / channels); }

/// Per-channel sums of (a - shift) and (a - shift)^2 over rows [r0, r1), or, with a mask, of
/// dz = (mask > floor ? a : 0) and dz * (b - shift): the two reductions of the forward and backward.
/// Written to sum[c] and sum_sq[c] as doubles; float lanes within the chunk.
template <bool kBackward>
PROPNET_AVX2_KERNEL PROPNET_INLINE void rows_reduce(int64_t channels, const float* a, const float* b,
                                                    const float* mask, float floor, const float* shift,
                                                    int64_t r0, int64_t r1, double* sum, double* sum_sq) {
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
        const float dz = mask[o] <= floor ? 0.f : a[o];
        s += dz;
        q += dz * (b[o] - shift[c]);
      } else {
        const float d = a[o] - shift[c];
        s += d;
        q += d * d;
      }
    }
    sum[c] = s;
    sum_sq[c] = q;
  }
}

PROPNET_AVX2_KERNEL void rows_reduce_forward(int64_t channels, const float* x, const float* shift, int64_t r0,
                                             int64_t r1, double* sum, double* sum_sq) {
  rows_reduce<false>(channels, x, nullptr, nullptr, 0.f, shift, r0, r1, sum, sum_sq);
}
PROPNET_AVX2_KERNEL void rows_reduce_backward(int64_t channels, const float* grad_y, const float* x,
                                              const float* y, float floor, const float* mean, int64_t r0,
                                              int64_t r1, double* sum, double* sum_sq) {
  rows_reduce<true>(channels, grad_y, x, y, floor, mean, r0, r1, sum, sum_sq);
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
PROPNET_AVX2_KERNEL void rows_normalize(int64_t channels, const float* in, const float* scale, const float* shift,
                                        float floor, float* out, int64_t r0, int64_t r1) {
  const Float8 floor8 = splat(floor);
  for (int64_t r = r0; r < r1; ++r) {
    const float* row = in + r * channels;
    float* dst = out + r * channels;
    int64_t c = 0;
    for (; c + kLanes <= channels; c += kLanes) {
      const Float8 v = load8(row + c) * load8(scale + c) + load8(shift + c);
      store8(dst + c, v < floor8 ? Float8{} : v);
    }
    for (; c < channels; ++c) {
      const float v = row[c] * scale[c] + shift[c];
      dst[c] = v < floor ? 0.f : v;
    }
  }
}

/// grad_x = fa * dz + fb * (x - mean) + fd per channel on rows [r0, r1), dz = y > floor ? dy : 0.
PROPNET_AVX2_KERNEL void rows_backward(int64_t channels, const BackwardArgs a, const float* fa, const float* fb,
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
      const float dz = a.y[o + c] <= a.floor ? 0.f : a.grad_y[o + c];
      a.grad_x[o + c] = fa[c] * dz + fb[c] * (a.x[o + c] - a.mean[c]) + fd[c];
    }
  }
}

/// Rows of one parallel_for task for the elementwise channels_last passes (>= 32 KiB of floats).
int64_t elementwise_grain(int64_t channels) { return std::max<int64_t>(1, 8192 / channels); }

float relu_floor(bool relu) { return relu ? 0.f : -std::numeric_limits<float>::infinity(); }

/// NCHW-contiguous tensors take the planes kernels; channels_last ones (and only they) the rows kernels.
bool is_nhwc(const at::Tensor& x) { return !x.is_contiguous() && x.is_contiguous(at::MemoryFormat::ChannelsLast); }

/// x's per-channel batch mean, biased variance and inverse standard deviation.
void batch_moments(const at::Tensor& x, double eps, float* mean, float* var, float* invstd) {
  const int64_t channels = x.size(1);
  if (!is_nhwc(x)) {
    at::parallel_for(0, channels, 1, [&](int64_t begin, int64_t end) {
      channel_moments(planes_of(x), x.data_ptr<float>(), eps, mean, var, invstd, begin, end);
    });
    return;
  }
  const int64_t rows = x.numel() / channels;
  const float* in = x.data_ptr<float>();  // the first row (a value of each channel) is the shift
  std::vector<double> sum(channels), sum_sq(channels);
  reduce_rows(rows, channels, sum.data(), sum_sq.data(), [&](int64_t r0, int64_t r1, double* s, double* q) {
    rows_reduce_forward(channels, in, in, r0, r1, s, q);
  });
  for (int64_t c = 0; c < channels; ++c)
    finish_moments(in[c], sum[c], sum_sq[c], static_cast<double>(rows), eps, mean[c], var[c], invstd[c]);
}

at::Tensor normalize(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, const at::Tensor& mean,
                     const at::Tensor& invstd, bool relu) {
  at::Tensor y = at::empty_like(x);  // keeps x's memory format
  const float *w = weight.data_ptr<float>(), *b = bias.data_ptr<float>(), *m = mean.data_ptr<float>(),
              *is = invstd.data_ptr<float>();
  if (!is_nhwc(x)) {
    const Planes p = planes_of(x);
    at::parallel_for(0, p.n * p.channels, 1, [&](int64_t begin, int64_t end) {
      normalize_rows(p, x.data_ptr<float>(), w, b, m, is, relu_floor(relu), y.data_ptr<float>(), begin, end);
    });
    return y;
  }
  const int64_t channels = x.size(1), rows = x.numel() / channels;
  std::vector<float> scale(channels), shift(channels);
  for (int64_t c = 0; c < channels; ++c) {
    scale[c] = w[c] * is[c];
    shift[c] = b[c] - m[c] * scale[c];
  }
  at::parallel_for(0, rows, elementwise_grain(channels), [&](int64_t begin, int64_t end) {
    rows_normalize(channels, x.data_ptr<float>(), scale.data(), shift.data(), relu_floor(relu), y.data_ptr<float>(),
                   begin, end);
  });
  return y;
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> normalize_backward(const at::Tensor& grad_y, const at::Tensor& x,
                                                                  const at::Tensor& y, const at::Tensor& weight,
                                                                  const at::Tensor& mean, const at::Tensor& invstd,
                                                                  bool relu) {
  const bool nhwc = is_nhwc(x);
  const at::Tensor dy = grad_y.contiguous(nhwc ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous);
  at::Tensor grad_x = at::empty_like(x);
  at::Tensor grad_weight = at::empty_like(weight), grad_bias = at::empty_like(weight);
  const BackwardArgs args{dy.data_ptr<float>(),     x.data_ptr<float>(),      y.data_ptr<float>(),
                          weight.data_ptr<float>(), mean.data_ptr<float>(),   invstd.data_ptr<float>(),
                          relu_floor(relu),         grad_x.data_ptr<float>(), grad_weight.data_ptr<float>(),
                          grad_bias.data_ptr<float>()};
  if (!nhwc) {
    const Planes p = planes_of(x);
    at::parallel_for(0, p.channels, 1, [&](int64_t begin, int64_t end) { backward_channels(p, args, begin, end); });
    return {grad_x, grad_weight, grad_bias};
  }
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
  return {grad_x, grad_weight, grad_bias};
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

bool fused_batch_norm_relu_available() { return fused_path_enabled() && cpu_runs_kernels(); }

bool batch_norm_relu_is_fused(const torch::nn::BatchNorm2dImpl& bn, const at::Tensor& x) {
  const auto& o = bn.options;
  const auto cpu_float = [](const at::Tensor& t) {
    return t.defined() && t.device().is_cpu() && t.scalar_type() == at::kFloat && t.layout() == at::kStrided;
  };
  const auto is_cpu_float = [&](const at::Tensor& t) { return cpu_float(t) && t.is_contiguous(); };
  return fused_batch_norm_relu_available() && bn.is_training() && o.affine() && o.track_running_stats() &&
         cpu_float(x) && x.dim() == 4 &&
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
  at::Tensor mean = at::empty({channels}, x.options()), var = at::empty({channels}, x.options());
  at::Tensor invstd = at::empty({channels}, x.options());
  batch_moments(x, bn.options.eps(), mean.data_ptr<float>(), var.data_ptr<float>(), invstd.data_ptr<float>());
  {
    // What BatchNorm2d's forward does to its buffers: count the batch, blend in the unbiased variance.
    at::NoGradGuard no_grad;
    bn.num_batches_tracked.add_(1);
    const double factor = bn.options.momentum() ? *bn.options.momentum()
                                                : 1.0 / bn.num_batches_tracked.item<double>();
    const double count = static_cast<double>(x.size(0) * x.size(2) * x.size(3));
    bn.running_mean.mul_(1.0 - factor).add_(mean, factor);
    bn.running_var.mul_(1.0 - factor).add_(var, factor * count / (count - 1.0));
  }
  return BatchNormReluFunction::apply(x, bn.weight, bn.bias, mean, invstd, relu);
}

}  // namespace propnet
