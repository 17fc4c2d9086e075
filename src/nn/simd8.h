#pragma once
// Eight-float vectors for propnet's AVX2/FMA CPU kernels (the fused BN+ReLU of bn_relu_*.cpp), loaded
// from and stored to float32 or bfloat16 memory.
#include <cstdint>
#include <cstring>

#include <c10/util/BFloat16.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace propnet::detail::simd {

// Eight floats as one value: GCC and Clang compile its arithmetic to SIMD instructions (one AVX2
// register in the AVX2 kernels below), so these loops vectorise whatever the optimisation level.
// The helpers are always inlined; they take it by reference, since GCC notes every by-value
// parameter's ABI without AVX (a note the pragma cannot silence), and returning it warns the same.
#pragma GCC diagnostic ignored "-Wpsabi"
typedef float Float8 __attribute__((vector_size(32)));
#define PROPNET_INLINE inline __attribute__((always_inline))  // always inlined into the AVX2 kernels
constexpr int64_t kLanes = 8;

PROPNET_INLINE Float8 load8(const float* p) {
  Float8 v;
  std::memcpy(&v, p, sizeof v);  // unaligned load
  return v;
}
PROPNET_INLINE void store8(float* p, const Float8& v) { std::memcpy(p, &v, sizeof v); }

// An explicit broadcast: GCC lowers `vector < scalar` lane by lane.
PROPNET_INLINE Float8 splat(float v) { return Float8{} + v; }
PROPNET_INLINE double lane_sum(const Float8& v) {
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
inline bool cpu_runs_kernels() { return false; }
#endif

// bfloat16 is float32's upper half: widening is a shift (exact), narrowing rounds to nearest even and
// turns NaN into 0x7FC0, bit for bit as c10::BFloat16(float) does, so the fused path rounds as ATen
// does. AVX2 has no bf16 instructions; these are the shortest sequences of its integer ones
// (GCC's generic vector conversions took twice as many).
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
PROPNET_AVX2_KERNEL PROPNET_INLINE Float8 load8(const c10::BFloat16* p) {
  const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return reinterpret_cast<Float8>(_mm256_slli_epi32(wide, 16));
}
PROPNET_AVX2_KERNEL PROPNET_INLINE void store8(c10::BFloat16* p, const Float8& v) {
  const __m256i bits = reinterpret_cast<__m256i>(v);
  const __m256i odd = _mm256_and_si256(_mm256_srli_epi32(bits, 16), _mm256_set1_epi32(1));
  const __m256i bias = _mm256_add_epi32(odd, _mm256_set1_epi32(0x7FFF));  // ties to the even neighbour
  __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(bits, bias), 16);
  const __m256i nan = reinterpret_cast<__m256i>(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  rounded = _mm256_blendv_epi8(rounded, _mm256_set1_epi32(0x7FC0), nan);
  const __m128i packed = _mm_packus_epi32(_mm256_castsi256_si128(rounded), _mm256_extracti128_si256(rounded, 1));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), packed);
}
#else  // compiled, never run (cpu_runs_kernels() is false)
PROPNET_INLINE Float8 load8(const c10::BFloat16* p) {
  Float8 v;
  for (int64_t l = 0; l < kLanes; ++l) v[l] = static_cast<float>(p[l]);
  return v;
}
PROPNET_INLINE void store8(c10::BFloat16* p, const Float8& v) {
  for (int64_t l = 0; l < kLanes; ++l) p[l] = c10::BFloat16(v[l]);
}
#endif

}  // namespace propnet::detail::simd
