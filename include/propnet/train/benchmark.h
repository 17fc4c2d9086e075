#pragma once
// Timed training steps on synthetic data: what `propnet bench` reports. Timing claims live here and
// in scripts/bench_vs_pytorch.sh, never in unit tests.
#include <cstdint>
#include <string>

#include <c10/core/Device.h>
#include <torch/arg.h>

#include <propnet/config.h>
#include <propnet/models/network_spec.h>

namespace propnet::train {

/// How many steps `benchmark_training` runs.
struct TrainBenchOptions {
  /// Untimed steps first: allocator, cuDNN autotuning and (with CUDA graphs, whose runner runs 3
  /// eager steps and then captures) the capture.
  TORCH_ARG(int64_t, warmup) = 5;
  /// Timed steps; each is timed on its own (with a device synchronize on CUDA).
  TORCH_ARG(int64_t, steps) = 20;
};

struct TrainBenchResult {
  double images_per_s = 0;   ///< batch size / median step time.
  double step_ms_p50 = 0;
  double step_ms_p90 = 0;
  double step_ms_mean = 0;
  double peak_mem_mb = 0;    ///< CUDA: the caching allocator's peak; CPU: the process's peak RSS.
  std::string device;        ///< "cpu", "cuda:0".
  std::string device_name;   ///< "NVIDIA H100 80GB HBM3 (sm_90, 79 GiB)"; "" on CPU.
  std::string torch_version;
  int64_t threads = 0;       ///< CPU intra-op threads.
  int64_t parameters = 0;
  bool channels_last = false;  ///< The memory format it ran (spec.channels_last resolved for the device).
};

/// Trains `network` on device-resident random images and labels (batch `spec.batch_size`, 32x32)
/// with the training step `propnet train` uses: `spec`'s optimizer settings, amp, channels_last and
/// cuda_graph. Throws c10::ValueError for settings the device cannot run.
TrainBenchResult benchmark_training(const models::NetworkSpec& network, const TrainSpec& spec,
                                    const c10::Device& device, const TrainBenchOptions& options = {});

}  // namespace propnet::train
