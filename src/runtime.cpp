#include <propnet/runtime.h>

#include <cstdlib>
#include <cstring>
#include <thread>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <ATen/Parallel.h>
#include <torch/version.h>

#include <propnet/version.h>

#include "cuda/cuda_info.h"

namespace propnet {
namespace detail {
std::string git_revision();  // build_revision.cpp
bool git_dirty();
}  // namespace detail

RuntimeInfo runtime_info() {
  RuntimeInfo info;
  info.propnet_version = PROPNET_VERSION;
  info.torch_version = std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
                       std::to_string(TORCH_VERSION_PATCH);
  info.cuda_compiled = detail::cuda_compiled();
  info.cuda_devices = detail::cuda_device_names();
  info.threads = at::get_num_threads();
  info.cpu = cpu_features();
  info.git_revision = detail::git_revision();
  info.git_dirty = detail::git_dirty();
  return info;
}

int64_t configure_threads(int64_t requested) {
  const int64_t cores = std::max<int64_t>(1, static_cast<int64_t>(std::thread::hardware_concurrency()));
  at::set_num_threads(static_cast<int>(requested > 0 ? requested : cores));
  return at::get_num_threads();
}

namespace {

HostAllocatorTuning apply_host_allocator_tuning() {
  HostAllocatorTuning tuning;
#if defined(__GLIBC__)
  if (const char* opt_out = std::getenv("PROPNET_MALLOC_TUNING"); opt_out && std::strcmp(opt_out, "0") == 0) {
    tuning.detail = "PROPNET_MALLOC_TUNING=0";
    return tuning;
  }
  if (const char* tunables = std::getenv("GLIBC_TUNABLES"); tunables && std::strstr(tunables, "glibc.malloc.")) {
    tuning.detail = "GLIBC_TUNABLES sets malloc options";
    return tuning;
  }
  // Both or neither: a fixed trim threshold alone also switches off glibc's dynamic mmap threshold,
  // and then every tensor above 128 KiB is mmapped afresh (measured: 30x the page faults).
  constexpr int kMmapThreshold = 32 << 20;  // glibc rejects more (HEAP_MAX_SIZE / 2 on 64-bit)
  constexpr int kTrimThreshold = 1 << 30;
  if (mallopt(M_MMAP_THRESHOLD, kMmapThreshold) == 1 && mallopt(M_TRIM_THRESHOLD, kTrimThreshold) == 1) {
    tuning.applied = true;
    tuning.detail = "malloc: mmap threshold 32 MiB, trim threshold 1 GiB";
  } else {
    tuning.detail = "mallopt refused the settings";
  }
#else
  tuning.detail = "not glibc";
#endif
  return tuning;
}

}  // namespace

HostAllocatorTuning tune_host_allocator() {
  static const HostAllocatorTuning tuning = apply_host_allocator_tuning();  // once per process
  return tuning;
}

}  // namespace propnet
