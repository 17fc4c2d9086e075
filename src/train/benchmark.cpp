#include <propnet/train/benchmark.h>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <vector>

#include <ATen/Parallel.h>
#include <ATen/ops/randint.h>
#include <ATen/ops/randn.h>
#include <c10/util/Exception.h>
#include <torch/nn/modules/container/any.h>
#include <torch/utils.h>

#include <propnet/models/network.h>
#include <propnet/models/summary.h>
#include <propnet/runtime.h>
#include <propnet/train/device.h>

#include "../cuda/cuda_info.h"
#include "setup.h"

namespace propnet::train {
namespace {

double percentile(std::vector<double> sorted_values, double q) {
  std::sort(sorted_values.begin(), sorted_values.end());
  const double position = q * static_cast<double>(sorted_values.size() - 1);
  const auto below = static_cast<size_t>(position);
  const size_t above = std::min(below + 1, sorted_values.size() - 1);
  const double fraction = position - static_cast<double>(below);
  return sorted_values[below] * (1 - fraction) + sorted_values[above] * fraction;
}

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
}

}  // namespace

TrainBenchResult benchmark_training(const models::NetworkSpec& network, const TrainSpec& spec,
                                    const c10::Device& device, const TrainBenchOptions& options) {
  TORCH_CHECK_VALUE(options.steps() >= 1, "bench: expected steps >= 1 (got ", options.steps(), ")");
  TORCH_CHECK_VALUE(options.warmup() >= 0, "bench: expected warmup >= 0 (got ", options.warmup(), ")");
  TORCH_CHECK_VALUE(spec.batch_size >= 1, "bench: expected batch size >= 1 (got ", spec.batch_size, ")");
  validate(spec);
  torch::manual_seed(0);
  models::Network net(network);
  detail::TrainingSetup setup(detail::Model::of(torch::nn::AnyModule(net)), spec, device);
  setup.make_runners();
  const bool channels_last = setup.channels_last();
  net->train();
  detail::StepRunner* const step = &setup.train_step();

  const auto on_device = at::TensorOptions().device(device);
  at::Tensor images = at::randn({spec.batch_size, network.in_channels, 32, 32}, on_device);
  if (channels_last) images = to_channels_last(images);
  const at::Tensor labels = at::randint(network.num_classes, {spec.batch_size}, on_device.dtype(at::kLong));
  const int index = device.is_cuda() ? std::max<int>(device.index(), 0) : 0;
  auto synchronize = [&] {
    if (device.is_cuda()) propnet::detail::cuda_synchronize(index);
  };

  if (device.is_cuda()) propnet::detail::cuda_reset_peak_memory(index);
  for (int64_t i = 0; i < options.warmup(); ++i) step->run(images, labels);
  synchronize();
  std::vector<double> step_ms;
  for (int64_t i = 0; i < options.steps(); ++i) {
    const auto start = std::chrono::steady_clock::now();
    step->run(images, labels);
    synchronize();
    step_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  // A diverged synthetic run would time NaN arithmetic, not training.
  TORCH_CHECK(std::isfinite(step->sums().loss_sum.item<double>()), "bench: the loss became NaN/Inf");

  TrainBenchResult r;
  r.step_ms_p50 = percentile(step_ms, 0.5);
  r.step_ms_p90 = percentile(step_ms, 0.9);
  r.step_ms_mean = std::accumulate(step_ms.begin(), step_ms.end(), 0.0) / static_cast<double>(step_ms.size());
  r.images_per_s = static_cast<double>(spec.batch_size) / (r.step_ms_p50 / 1000.0);
  r.peak_mem_mb = device.is_cuda() ? static_cast<double>(propnet::detail::cuda_peak_memory_bytes(index)) / (1 << 20) : peak_rss_mb();
  r.device = device.str();
  if (device.is_cuda()) {
    const auto names = propnet::detail::cuda_device_names();
    if (static_cast<size_t>(index) < names.size()) r.device_name = names[static_cast<size_t>(index)];
  }
  r.torch_version = runtime_info().torch_version;
  r.threads = at::get_num_threads();
  r.parameters = models::count_parameters(*net);
  r.channels_last = channels_last;
  return r;
}

}  // namespace propnet::train
