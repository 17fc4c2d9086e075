#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include <torch/arg.h>
#include <torch/types.h>

namespace propnet::data {

class EpochOrder;

/// Per-channel normalization: (x - mean[c]) / std[c], with the constants on the 0-255 scale
/// (spec §6, §8.2). Maps uint8 or float (B, C, H, W) to float32 (B, C, H, W) on x's device.
/// The constants go to each device once, on first use (copies share them), not on every call.
class Normalizer {
 public:
  Normalizer(std::vector<double> mean, std::vector<double> std);

  torch::Tensor operator()(const torch::Tensor& images) const;

  const std::vector<double>& mean() const { return mean_; }
  const std::vector<double>& std() const { return std_; }
  int64_t channels() const { return static_cast<int64_t>(mean_.size()); }

 private:
  struct DeviceConstants;  // 1/std and -mean/std as (1, C, 1, 1) tensors, per device
  std::vector<double> mean_;
  std::vector<double> std_;
  std::shared_ptr<DeviceConstants> constants_;
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
/// On a GPU each call uploads the batch's crop and flip parameters (and `indices`, if they are on
/// the host); a training loop uses `EpochBatches`, which uploads an epoch's worth at once.
torch::Tensor make_batch(const torch::Tensor& images, const torch::Tensor& indices, const Normalizer& normalizer,
                         const AugmentOptions& augment, const BatchKey& key, bool train);

/// One epoch of training batches, ready on the training device: every batch's sample indices and
/// crop/flip parameters, drawn on the host exactly as `make_batch` draws them and uploaded in one
/// copy, so that building a batch copies nothing from the host and the host never waits for the
/// device. The augmentation key is (the order's seed, `epoch`, step, the order's rank and world size).
///
/// Example (one training epoch):
/// ```
/// const EpochBatches batches(order, epoch, {}, train.images.device());
/// for (int64_t step = 0; step < batches.size(); ++step) {
///   auto x = batches.make(train.images, normalizer, step);
///   auto y = train.labels.index_select(0, batches.indices(step));
/// }
/// ```
class EpochBatches {
 public:
  EpochBatches(const EpochOrder& order, int64_t epoch, const AugmentOptions& augment, const torch::Device& device);

  /// Batches in the epoch (`order.batches_per_epoch()`).
  int64_t size() const { return static_cast<int64_t>(indices_.size()); }
  /// The samples of batch `step`: int64 (B), on the device.
  const torch::Tensor& indices(int64_t step) const;
  /// The augmented, normalized batch `step` of `images` (on the device): bit for bit
  /// `make_batch(images, indices(step), normalizer, augment, key of step, true)`.
  torch::Tensor make(const torch::Tensor& images, const Normalizer& normalizer, int64_t step) const;

 private:
  AugmentOptions augment_;
  std::vector<torch::Tensor> indices_;  // views of one device tensor
  std::vector<torch::Tensor> params_;   // (3, B) views: crop offsets dy, dx and the flip
};

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
