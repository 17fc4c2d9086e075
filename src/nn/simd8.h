#pragma once
// Eight-float vectors for propnet's AVX2/FMA CPU kernels (the fused BN+ReLU of bn_relu_*.cpp).
#include <cstdint>
#include <cstring>

namespace propnet::detail::simd {

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
inline bool cpu_runs_kernels() {
  static const bool supported = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return supported;
}
#else
#define PROPNET_AVX2_KERNEL
inline inline bool cpu_runs_kernels() { return false; }
#endif


}  // namespace propnet::detail::simd
