// The input pipeline: normalization, augmentation and epoch orders.
#include <set>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <c10/util/Exception.h>
#include <torch/types.h>

#include <propnet/data/epoch_order.h>
#include <propnet/data/transforms.h>

#include "data/pattern.h"

namespace propnet::data {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

// ---- Normalizer, augmentation ----

TEST(NormalizerTest, AppliesTheConstantsPerChannel) {
  const Normalizer normalize({100.0, 50.0, 10.0}, {2.0, 5.0, 10.0});
  const torch::Tensor x = pattern_images(2, 3, 4);
  const torch::Tensor y = normalize(x);
  EXPECT_EQ(y.scalar_type(), torch::kFloat);
  const torch::Tensor mean = torch::tensor({100.0, 50.0, 10.0}).view({1, 3, 1, 1});
  const torch::Tensor std = torch::tensor({2.0, 5.0, 10.0}).view({1, 3, 1, 1});
  EXPECT_TRUE(torch::allclose(y, ((x.to(torch::kDouble) - mean) / std).to(torch::kFloat), 1e-5, 1e-5));
  EXPECT_THAT([&] { normalize(pattern_images(1, 1, 4)); },
              ThrowsMessage<c10::ValueError>(HasSubstr("Normalizer: expected 3 channels (got 1)")));
}

// Whether `out` is a window of `padded` at offset (dy, dx), mirrored or not.
bool is_translation(const torch::Tensor& out, const torch::Tensor& padded, int64_t pad) {
  const int64_t h = out.size(1), w = out.size(2);
  for (int64_t dy = 0; dy <= 2 * pad; ++dy)
    for (int64_t dx = 0; dx <= 2 * pad; ++dx) {
      const torch::Tensor window = padded.narrow(1, dy, h).narrow(2, dx, w);
      if (torch::equal(out, window) || torch::equal(out, window.flip({2}))) return true;
    }
  return false;
}

TEST(AugmentTest, EveryOutputIsAShiftOfAtMostFourPixelsOfItsPaddedInputOrItsMirror) {
  const torch::Tensor x = torch::arange(1, 1 + 16 * 3 * 32 * 32, torch::kFloat).view({16, 3, 32, 32});
  const torch::Tensor y = augment_batch(x, {1, 2, 3});
  ASSERT_EQ(y.sizes(), x.sizes());
  const torch::Tensor padded = torch::constant_pad_nd(x, {4, 4, 4, 4}, 0);
  for (int64_t b = 0; b < 16; ++b) EXPECT_TRUE(is_translation(y[b], padded[b], 4)) << "image " << b;
  EXPECT_FALSE(is_translation(y[0], padded[1], 4));
}

TEST(AugmentTest, OffsetsAndFlipsCoverTheirRange) {
  const torch::Tensor x = torch::arange(1, 1 + 512 * 8 * 8, torch::kFloat).view({512, 1, 8, 8});
  const torch::Tensor y = augment_batch(x, {5, 0, 0}, AugmentOptions().padding(2));
  const torch::Tensor padded = torch::constant_pad_nd(x, {2, 2, 2, 2}, 0);
  std::set<std::tuple<int64_t, int64_t, bool>> seen;
  for (int64_t b = 0; b < 512; ++b)
    for (int64_t dy = 0; dy <= 4; ++dy)
      for (int64_t dx = 0; dx <= 4; ++dx)
        for (bool flip : {false, true}) {
          torch::Tensor window = padded[b].narrow(1, dy, 8).narrow(2, dx, 8);
          if (flip) window = window.flip({2});
          if (torch::equal(y[b], window)) seen.insert({dy, dx, flip});
        }
  EXPECT_EQ(seen.size(), 50u);  // 5 x 5 offsets x 2 flips, all reachable
}

TEST(AugmentTest, SameKeyGivesIdenticalBatchesAndOtherKeysDiffer) {
  const torch::Tensor x = torch::arange(1, 1 + 64 * 3 * 32 * 32, torch::kFloat).view({64, 3, 32, 32});
  EXPECT_TRUE(torch::equal(augment_batch(x, {7, 1, 2}), augment_batch(x, {7, 1, 2})));
  EXPECT_FALSE(torch::equal(augment_batch(x, {7, 1, 2}), augment_batch(x, {7, 1, 3})));
  EXPECT_FALSE(torch::equal(augment_batch(x, {7, 1, 2}), augment_batch(x, {7, 2, 2})));
  EXPECT_FALSE(torch::equal(augment_batch(x, {7, 1, 2}), augment_batch(x, {8, 1, 2})));
  EXPECT_TRUE(torch::equal(augment_batch(x, {7, 1, 2}, AugmentOptions().enabled(false)), x));
  const torch::Tensor unflipped = augment_batch(x, {7, 1, 2}, AugmentOptions().flip(false).padding(0));
  EXPECT_TRUE(torch::equal(unflipped, x));
}

TEST(AugmentTest, MakeBatchNormalizesThenAugmentsWithZeroPadding) {
  const torch::Tensor images = pattern_images(20, 3, 32);
  const Normalizer normalize({125.3, 123.0, 113.9}, {63.0, 62.1, 66.7});
  const torch::Tensor indices = torch::tensor({4, 0, 19, 7}, torch::kLong);
  const BatchKey key{3, 1, 4};
  const torch::Tensor train = make_batch(images, indices, normalize, {}, key, true);
  const torch::Tensor expected = augment_batch(normalize(images.index_select(0, indices)), key);
  EXPECT_TRUE(torch::allclose(train, expected, 1e-6, 1e-6));
  const torch::Tensor test = make_batch(images, indices, normalize, {}, key, false);
  EXPECT_TRUE(torch::allclose(test, normalize(images.index_select(0, indices))));
  EXPECT_TRUE(torch::equal(make_batch(images, indices, normalize, AugmentOptions().enabled(false), key, true), test));
}

TEST(AugmentTest, EpochBatchesBuildBitForBitWhatMakeBatchBuildsFromTheSameKeys) {
  const torch::Tensor images = pattern_images(22, 3, 16);
  const Normalizer normalize({125.3, 123.0, 113.9}, {63.0, 62.1, 66.7});
  for (const int64_t world : {1, 2}) {
    for (const bool augmented : {true, false}) {
      const int64_t rank = world - 1;
      const EpochOrder order(22, EpochOrderOptions(4).seed(9).rank(rank).world_size(world));
      const AugmentOptions augment = AugmentOptions().padding(2).enabled(augmented);
      const EpochBatches batches(order, 3, augment, images.device());
      const std::vector<torch::Tensor> expected = order.batches(3);
      ASSERT_EQ(batches.size(), static_cast<int64_t>(expected.size()));
      for (int64_t step = 0; step < batches.size(); ++step) {
        const torch::Tensor& indices = expected[static_cast<size_t>(step)];
        EXPECT_TRUE(torch::equal(batches.indices(step), indices));
        BatchKey key{9, 3, step};
        key.rank = rank;
        key.world_size = world;
        EXPECT_TRUE(torch::equal(batches.make(images, normalize, step), make_batch(images, indices, normalize, augment, key, true)))
            << "world " << world << ", augmented " << augmented << ", step " << step;
      }
    }
  }
  const EpochBatches batches(EpochOrder(22, EpochOrderOptions(4)), 0, {}, images.device());
  EXPECT_THAT([&] { batches.indices(6); },
              ThrowsMessage<c10::IndexError>(HasSubstr("EpochBatches: step 6 is outside the epoch's 6 batches")));
}

// ---- EpochOrder ----

TEST(EpochOrderTest, EveryEpochIsAPermutationDecidedBySeedAndEpoch) {
  const EpochOrder order(1000, EpochOrderOptions(64).seed(11));
  const torch::Tensor e0 = order.permutation(0);
  EXPECT_TRUE(torch::equal(std::get<0>(e0.sort()), torch::arange(1000, torch::kLong)));
  EXPECT_TRUE(torch::equal(e0, EpochOrder(1000, EpochOrderOptions(64).seed(11)).permutation(0)));
  EXPECT_FALSE(torch::equal(e0, order.permutation(1)));
  EXPECT_FALSE(torch::equal(e0, EpochOrder(1000, EpochOrderOptions(64).seed(12)).permutation(0)));
  EXPECT_TRUE(torch::equal(EpochOrder(5, EpochOrderOptions(2).shuffle(false)).permutation(3),
                           torch::arange(5, torch::kLong)));
}

TEST(EpochOrderTest, BatchesVisitEverySampleOnceKeepingOrDroppingTheRemainder) {
  const EpochOrder keep(10, EpochOrderOptions(4).seed(1));
  const std::vector<torch::Tensor> batches = keep.batches(2);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(keep.batches_per_epoch(), 3);
  EXPECT_EQ(batches[2].size(0), 2);
  EXPECT_TRUE(torch::equal(torch::cat(batches), keep.permutation(2)));
  const EpochOrder drop(10, EpochOrderOptions(4).seed(1).drop_last(true));
  EXPECT_EQ(drop.batches(2).size(), 2u);
  EXPECT_EQ(drop.batches_per_epoch(), 2);
  EXPECT_TRUE(torch::equal(torch::cat(drop.batches(2)), keep.permutation(2).narrow(0, 0, 8)));
}

TEST(EpochOrderTest, RanksTakeEqualStridedShardsOfTheSamePermutation) {
  std::vector<torch::Tensor> shards;
  for (int64_t rank = 0; rank < 3; ++rank) {
    const EpochOrder order(10, EpochOrderOptions(2).seed(4).rank(rank).world_size(3));
    EXPECT_EQ(order.samples_per_rank(), 4);
    EXPECT_EQ(order.batches_per_epoch(), 2);
    shards.push_back(order.shard(5));
  }
  const torch::Tensor perm = EpochOrder(10, EpochOrderOptions(2).seed(4)).permutation(5);
  EXPECT_EQ(shards[1][0].item<int64_t>(), perm[1].item<int64_t>());
  EXPECT_EQ(shards[1][1].item<int64_t>(), perm[4].item<int64_t>());
  const torch::Tensor all = torch::cat(shards);
  EXPECT_EQ(std::get<0>(at::_unique(all)).size(0), 10);  // all covered; 2 wrapped around
  EXPECT_THAT([] { EpochOrder(10, EpochOrderOptions(2).rank(3).world_size(3)); },
              ThrowsMessage<c10::ValueError>(HasSubstr("expected 0 <= rank < world_size (got rank 3, world_size 3)")));
}

}  // namespace
}  // namespace propnet::data
