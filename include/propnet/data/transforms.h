#pragma once
#include <cstdint>
#include <vector>

#include <torch/arg.h>
#include <torch/types.h>

namespace propnet::data {

/// Per-channel normalization: (x - mean[c]) / std[c], with the constants on the 0-255 scale
/// (spec §6, §8.2). Maps uint8 or float (B, C, H, W) to float32 (B, C, H, W) on x's device.
class Normalizer {
 public:
  Normalizer(std::vector<double> mean, std::vector<double> std);

  torch::Tensor operator()(const torch::Tensor& images) const;

  const std::vector<double>& mean() const { return mean_; }
  const std::vector<double>& std() const { return std_; }
  int64_t channels() const { return static_cast<int64_t>(mean_.size()); }

 private:
  std::vector<double> mean_;
  std::vector<double> std_;
};

/// Options of the training augmentation (spec §6): pad, random crop of the input's size, flip.
struct AugmentOptions {
  /// Pixels of padding on each side; the random crop moves the image by up to this much.
  TORCH_ARG(int64_t, padding) = 4;
  /// Mirror each image horizontally with probability 1/2.
  TORCH_ARG(bool, flip) = true;
  /// Off: training batches are only normalized, like test batches.
  TORCH_ARG(bool, enabled) = true;
};

/// What makes one batch's augmentation reproducible: the run's seed, the epoch and the step.
struct BatchKey {
  uint64_t seed = 0;
  int64_t epoch = 0;
  int64_t step = 0;
  /// Data-parallel shard: the batch holds positions rank, rank + W, ... of the global batch `step`
  /// (EpochOrder's strided shard), and gets their crops and flips, so that W ranks together augment
  /// exactly as one process running the global batch.
  int64_t rank = 0;
  int64_t world_size = 1;
};

/// Pads every image of a normalized float (B, C, H, W) batch by `padding` zeros (the mean, after
/// normalization), crops a random H x W window from it and mirrors it with p = 1/2, all in one
/// gather on x's device. The offsets and flips depend only on `key` (never on global RNG state).
torch::Tensor augment_batch(const torch::Tensor& x, const BatchKey& key, const AugmentOptions& options = {});

/// The network input for one batch: selects `indices` (int64, any device) from the uint8
/// (N, C, H, W) `images` (the split as loaded, on the training device), normalizes them and, when
/// `train` and augmentation is enabled, augments them as `augment_batch` does. Returns float32
/// (B, C, H, W) on the images' device; deterministic for a given `key`.
///
/// Example (one training epoch):
/// ```
/// for (int64_t step = 0; step < order.batches_per_epoch(); ++step) {
///   auto x = make_batch(train.images, batches[step], normalizer, {}, {seed, epoch, step}, true);
///   auto y = train.labels.index_select(0, batches[step].to(train.labels.device()));
/// }
/// ```
torch::Tensor make_batch(const torch::Tensor& images, const torch::Tensor& indices, const Normalizer& normalizer,
                         const AugmentOptions& augment, const BatchKey& key, bool train);

/// Throughput of `make_batch` on synthetic data (`propnet data --bench`).
struct PipelineBenchOptions {
  TORCH_ARG(int64_t, batch_size) = 64;
  TORCH_ARG(int64_t, steps) = 500;
  TORCH_ARG(int64_t, warmup_steps) = 20;
  /// Synthetic uint8 images in the pool batches are drawn from.
  TORCH_ARG(int64_t, pool) = 4096;
  TORCH_ARG(int64_t, channels) = 3;
  TORCH_ARG(int64_t, image_size) = 32;
  /// Augment (training) or only normalize (test).
  TORCH_ARG(bool, train) = true;
  TORCH_ARG(torch::Device, device) = torch::kCPU;
};

/// The measured throughput; timings include a device synchronization at the end.
struct PipelineBenchResult {
  int64_t images = 0;
  double seconds = 0;
  double images_per_second = 0;
};

/// Times `make_batch` (index select + normalization + augmentation) over `steps` batches.
PipelineBenchResult benchmark_pipeline(const PipelineBenchOptions& options = {});

}  // namespace propnet::data
