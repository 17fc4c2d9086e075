#pragma once
#include <cstdint>
#include <vector>

#include <torch/arg.h>
#include <torch/types.h>

namespace propnet::data {

/// Options for `EpochOrder`.
struct EpochOrderOptions {
  explicit EpochOrderOptions(int64_t batch_size = 64) : batch_size_(batch_size) {}

  /// Samples per batch (per rank when sharded); spec §6 uses 64.
  TORCH_ARG(int64_t, batch_size);
  /// Base seed; epoch e's order depends only on (seed, e).
  TORCH_ARG(uint64_t, seed) = 0;
  /// A fresh permutation every epoch; false keeps 0..N-1 (evaluation).
  TORCH_ARG(bool, shuffle) = true;
  /// Drop the last partial batch (spec §6 allows keeping or dropping the remainder).
  TORCH_ARG(bool, drop_last) = false;
  /// This process's rank and the number of data-parallel ranks; see `EpochOrder::shard`.
  TORCH_ARG(int64_t, rank) = 0;
  TORCH_ARG(int64_t, world_size) = 1;
};

/// The order in which one epoch visits a split: a permutation that depends only on
/// (seed, epoch), cut into batches of sample indices (int64, CPU).
///
/// Every rank computes the same permutation and takes the strided shard `perm[rank::world_size]`.
/// With world_size 1 every sample appears exactly once per epoch. With world_size > 1 and N not
/// divisible by it, the permutation is first wrapped around (drop_last: truncated) to a multiple
/// of world_size, so that every rank gets the same number of samples and batches, as
/// torch.utils.data.DistributedSampler does.
///
/// The permutation is a Fisher-Yates shuffle driven by splitmix64 of (seed, epoch): identical on
/// every platform, device and LibTorch version, and independent of LibTorch's global RNG.
///
/// Example:
/// ```
/// EpochOrder order(dataset.train.size(), EpochOrderOptions(64).seed(7));
/// for (const torch::Tensor& indices : order.batches(epoch)) { ... }
/// ```
class EpochOrder {
 public:
  EpochOrder(int64_t size, EpochOrderOptions options);

  /// The full permutation of 0..N-1 for `epoch` (shared by all ranks): int64 (N).
  torch::Tensor permutation(int64_t epoch) const;
  /// This rank's samples for `epoch`, in order: int64 (samples_per_rank()).
  torch::Tensor shard(int64_t epoch) const;
  /// This rank's shard cut into batches (the last one shorter unless drop_last).
  std::vector<torch::Tensor> batches(int64_t epoch) const;

  /// N, the size of the split.
  int64_t size() const { return size_; }
  /// Samples each rank visits per epoch.
  int64_t samples_per_rank() const;
  /// Batches each rank runs per epoch.
  int64_t batches_per_epoch() const;

  /// The options this order was built from.
  const EpochOrderOptions& options() const { return options_; }

 private:
  int64_t size_;
  EpochOrderOptions options_;
};

/// splitmix64 of (seed, a, b): the derived seeds used for epoch orders and augmentation.
uint64_t derive_seed(uint64_t seed, uint64_t a, uint64_t b = 0);

}  // namespace propnet::data
