#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace propnet {

/// The CPU's model and the instruction-set features that decide how fast propnet's kernels and bf16 run on it.
struct CpuFeatures {
  std::string model;         ///< /proc/cpuinfo's "model name"; "" where it cannot be read.
  bool avx2 = false;         ///< With `fma`: what the fused BN+ReLU kernels need.
  bool fma = false;
  bool avx512f = false;
  bool avx512_bf16 = false;  ///< AVX512-BF16: bf16 dot products and conversions in hardware.
  bool amx_bf16 = false;     ///< AMX-BF16: the tile units oneDNN runs bf16 convolutions on.
  /// The features above that this CPU has, by their /proc/cpuinfo names ("avx2", "amx_bf16", ...).
  std::vector<std::string> names() const;
  /// "AMD EPYC 7B13 (avx2 fma)": the model ("model unknown") and names() ("no AVX2" when none).
  std::string summary() const;
  /// True with AMX-BF16 or AVX512-BF16: bf16 convolutions then run on hardware made for them.
  bool has_bf16_units() const { return amx_bf16 || avx512_bf16; }
};

/// The features of the first processor described in `cpuinfo`, text in /proc/cpuinfo's format.
CpuFeatures parse_cpuinfo(const std::string& cpuinfo);

/// This machine's CPU, read from /proc/cpuinfo once per process; all false where it cannot be read.
const CpuFeatures& cpu_features();

/// One line warning that bf16 on `cpu` has no hardware for it and will likely be much slower than
/// fp32, naming the missing features; "" when the CPU has AMX-BF16 or AVX512-BF16.
std::string bf16_cpu_warning(const CpuFeatures& cpu);

/// What propnet was built against and what it can run on.
struct RuntimeInfo {
  std::string propnet_version;
  std::string torch_version;            ///< LibTorch's major.minor.patch.
  bool cuda_compiled = false;           ///< LibTorch (and propnet's CUDA sources) built with CUDA.
  std::vector<std::string> cuda_devices;  ///< "NVIDIA H100 80GB HBM3 (sm_90, 79 GiB)", one per device.
  int64_t threads = 0;                  ///< Intra-op CPU threads LibTorch uses now.
  CpuFeatures cpu;                      ///< cpu_features().
  /// The git commit propnet was built from (12 hex digits; "unknown" outside a git checkout), read
  /// at build time, and whether tracked files differed from it then.
  std::string git_revision;
  bool git_dirty = false;
};

/// Probes the runtime; never throws, even on a machine without a GPU driver.
RuntimeInfo runtime_info();

/// Sets LibTorch's intra-op CPU threads: `requested` if > 0, else every core of this machine
/// (LibTorch may start with 1 where OMP_NUM_THREADS is unset). Returns the count in effect.
int64_t configure_threads(int64_t requested = 0);

/// What tune_host_allocator() did.
struct HostAllocatorTuning {
  bool applied = false;
  std::string detail;  ///< The settings made, or why none were ("GLIBC_TUNABLES sets malloc options").
};

/// Keeps freed CPU tensor memory in the process between training steps. glibc's defaults hand large
/// blocks back to the kernel (munmap, heap trimming), so every step faults its activations in again,
/// page by page, zero-filled by the kernel: thousands of page faults per step. This sets
/// M_MMAP_THRESHOLD to 32 MiB (glibc's largest) and M_TRIM_THRESHOLD to 1 GiB, so the resident set
/// stays at the peak of a step instead of shrinking and regrowing every step.
///
/// Process-wide: call once at start-up, before the first tensor allocation matters. Does nothing when
/// the C library is not glibc, when GLIBC_TUNABLES already sets malloc options (the user's choice
/// wins), or when the environment sets PROPNET_MALLOC_TUNING=0. The `propnet` CLI calls it.
/// Applies the settings once per process; later calls return what the first call did.
HostAllocatorTuning tune_host_allocator();

}  // namespace propnet
