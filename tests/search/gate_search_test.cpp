// The `gates` search inside the Trainer: budgets, hysteresis, validation steps that leave BN alone,
// an inert site scored 0, and a stopped-and-resumed search equal to an uninterrupted one.
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <c10/core/Device.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <propnet/data/transforms.h>
#include <propnet/models/registry.h>
#include <propnet/search/gate_search.h>
#include "support.h"
#include "search/search_support.h"
#include "train/toy_data.h"

namespace propnet::search {
namespace {

using fixtures::kSixSites;
using fixtures::preresnet8;

TEST(GatedNetworkTest, ACloneIsAnIndependentCopyWithItsGates) {
  torch::manual_seed(0);
  GatedNetwork gated{models::Network(preresnet8())};
  gated->set_mask(ReluMask::parse("101010"));
  gated->eval();
  auto copy = std::dynamic_pointer_cast<GatedNetworkImpl>(gated->clone());
  ASSERT_TRUE(copy);
  EXPECT_EQ(copy->mask().to_string(), "101010");
  const torch::Tensor x = torch::randn({2, 3, 32, 32});
  EXPECT_TRUE(torch::equal(copy->forward(x), gated->forward(x)));
  copy->set_mask(ReluMask::parse("111111"));
  EXPECT_EQ(gated->mask().to_string(), "101010");  // the original keeps its gates ...
  EXPECT_FALSE(torch::equal(copy->forward(x), gated->forward(x)));
  torch::NoGradGuard no_grad;
  copy->net->parameters()[0].add_(1);  // ... and its weights
  EXPECT_FALSE(torch::equal(copy->net->parameters()[0], gated->net->parameters()[0]));
}

TEST(SelectMaskTest, KeepsTheBudgetAndEachStagesMinimum) {
  const std::vector<double> scores{5, 4, 3, 2, 1, 0};
  EXPECT_EQ(select_mask(scores, kSixSites, {3, 1}).to_string(), "101010");
  EXPECT_EQ(select_mask(scores, kSixSites, {3, 0}).to_string(), "111000");
  EXPECT_EQ(select_mask(scores, kSixSites, {6, 1}).to_string(), "111111");
  EXPECT_EQ(select_mask(scores, kSixSites, {4, 1}).to_string(), "111010");
}

TEST(SelectMaskTest, HysteresisSwapsOnlyClearWinners) {
  const ReluMask current = ReluMask::parse("110000");
  const std::vector<double> close{1.0, 0.99, 1.05, 0, 0, 0};  // site 2 beats site 1 by 0.06
  EXPECT_EQ(select_mask(close, kSixSites, {2, 0}, &current, 0.1).to_string(), "110000");
  EXPECT_EQ(select_mask(close, kSixSites, {2, 0}, &current, 0.01).to_string(), "101000");
  const ReluMask staged = ReluMask::parse("101010");  // a stage's only kept site is not swapped out of it
  EXPECT_EQ(select_mask({0, 9, 0, 9, 1, 0}, kSixSites, {3, 1}, &staged, 0.1).to_string(), "010110");
}

train::TrainerOptions options(int64_t epochs, int64_t seed = 0, const std::filesystem::path& dir = {}) {
  train::TrainerOptions o;
  o.spec.epochs = epochs;
  o.spec.batch_size = 32;
  o.spec.lr = 0.05;
  o.spec.eval_batch_size = 64;
  o.seed = seed;
  o.device = c10::Device(c10::kCPU);
  o.dir = dir;
  return o;
}

struct Searched {
  ReluMask mask;
  std::vector<double> scores;
  std::vector<EpochMask> trajectory;
  train::SeedResult result;
  GatedNetwork net{nullptr};
};

Searched search(const GateSearchOptions& knobs, int64_t epochs, const std::filesystem::path& dir = {},
                std::function<void(models::Network&)> prepare = {}, std::function<bool()> stop = {}) {
  const data::Dataset data = data::hold_out_validation(train::toy_dataset(160, 32), 64);
  torch::manual_seed(0);
  models::Network net(preresnet8());
  if (prepare) prepare(net);
  GatedNetwork gated(net);
  auto hook = std::make_shared<GateSearch>(gated, data.val, SearchSpace(site_stages(preresnet8())), knobs);
  train::TrainerOptions o = options(epochs, 0, dir);
  o.hooks.step = hook;
  o.hooks.stop_requested = std::move(stop);
  Searched s{ReluMask::paired(1), {}, {}, train::Trainer(gated, data, o).run(), gated};
  s.mask = hook->mask();
  s.scores = hook->scores();
  s.trajectory = hook->trajectory();
  return s;
}

GateSearchOptions knobs(int64_t keep, int64_t epochs) {
  GateSearchOptions k;
  k.budget = {keep, 1};
  k.epochs = epochs;
  k.score_every = 1;
  k.score_batch = 32;
  return k;
}

TEST(GateSearchTest, FindsAMaskOfTheBudgetAndRecordsItsTrajectory) {
  const Searched s = search(knobs(3, 2), 2);
  EXPECT_TRUE(meets(s.mask, kSixSites, {3, 1})) << s.mask.to_string();
  ASSERT_EQ(s.trajectory.size(), 2u);
  EXPECT_EQ(s.trajectory.back().mask, s.mask.to_string());
  EXPECT_TRUE(s.result.metrics.back().has_val);
  EXPECT_EQ(search(knobs(6, 1), 1).mask.to_string(), "111111");  // keep everything: the paired mask
}

TEST(GateSearchTest, ScoreStepsLeaveBnStatisticsAndTheMaskDuringWarmUp) {
  GateSearchOptions k = knobs(3, 2);
  k.warmup_epochs = 2;  // the whole run: every ReLU kept, scores accumulate
  const Searched warm = search(k, 2);
  EXPECT_EQ(warm.mask.to_string(), "111111");
  GateSearchOptions never = k;
  never.score_every = 1000000;  // no score step after the first one
  const Searched without = search(never, 2);
  // Training is the same with and without validation score steps: they touch no buffer and no weight.
  const auto a = warm.net->named_buffers(), b = without.net->named_buffers();
  for (const auto& item : a) EXPECT_TRUE(torch::equal(item.value(), b[item.key()])) << item.key();
  const auto pa = warm.net->named_parameters(), pb = without.net->named_parameters();
  for (const auto& item : pa) EXPECT_TRUE(torch::equal(item.value(), pb[item.key()])) << item.key();
}

TEST(GateSearchTest, AnInertSiteScoresZeroAndGoesBeforeEveryHelpfulOne) {
  GateSearchOptions k = knobs(6, 2);
  k.beta = 0;  // the score is the last step's benefit, no initial noise left
  const Searched s = search(k, 2, {}, [](models::Network& net) {
    torch::NoGradGuard no_grad;  // BN(x) + 100 >= 0: stage2.0's first ReLU is the identity
    net->named_parameters()["stage2.0.bn1.bias"].fill_(100);
  });
  EXPECT_EQ(s.scores[2], 0.0);
  // Sites whose ReLU lowers the validation loss (score > 0) are all kept before the inert one; sites
  // whose ReLU raises it (score < 0, possible on a briefly trained toy net) go first, as they should.
  int64_t helpful = 0;
  for (double score : s.scores) helpful += score > 0;
  ASSERT_GT(helpful, 0);
  const ReluMask kept = select_mask(s.scores, kSixSites, {helpful, 0});
  EXPECT_FALSE(kept.keeps(2));
  for (size_t i = 0; i < s.scores.size(); ++i) EXPECT_EQ(kept.keeps(static_cast<int64_t>(i)), s.scores[i] > 0) << i;
}

// A score step runs in the training steps' precision (StepContext::amp): on the same network and
// validation batch, bf16 scores differ from fp32 ones, and fp32 scores repeat bitwise.
TEST(GateSearchTest, ScoreStepsRunInTheTrainingStepsPrecision) {
  const data::Dataset data = data::hold_out_validation(train::toy_dataset(160, 32), 64);
  const data::Normalizer normalizer(data.mean, data.std);
  torch::manual_seed(0);
  models::Network net(preresnet8());
  GatedNetwork gated(net);
  GateSearchOptions k = knobs(3, 2);
  k.warmup_epochs = 2;  // score only, select nothing
  k.beta = 0;           // the scores are the step's benefits
  const auto scores_in = [&](Amp amp) {
    GateSearch hook(gated, data.val, SearchSpace(site_stages(preresnet8())), k);
    train::StepContext context;
    context.steps = 1;
    context.module = gated.ptr().get();
    context.amp = amp;
    context.input = [&](const data::Split& split, const at::Tensor& indices) {
      return data::make_batch(split.images, indices, normalizer, {}, {}, /*train=*/false);
    };
    hook.after_step(context);
    return hook.scores();
  };
  const std::vector<double> fp32 = scores_in(Amp::kOff), bf16 = scores_in(Amp::kBf16);
  EXPECT_EQ(scores_in(Amp::kOff), fp32);
  EXPECT_NE(bf16, fp32);
}

TEST(GateSearchTest, StoppedAndResumedSearchEqualsAnUninterruptedOne) {
  const auto dir_a = test::scratch_dir("gates-once"), dir_b = test::scratch_dir("gates-twice");
  const Searched once = search(knobs(3, 2), 2, dir_a);
  int steps = 0;
  const Searched stopped = search(knobs(3, 2), 2, dir_b, {}, [&] { return ++steps == 5; });  // mid epoch 2
  ASSERT_EQ(stopped.result.status, train::SeedStatus::kStopped);
  const Searched resumed = search(knobs(3, 2), 2, dir_b);
  EXPECT_EQ(resumed.mask, once.mask);
  EXPECT_EQ(resumed.scores, once.scores);  // bitwise
  ASSERT_EQ(resumed.trajectory.size(), once.trajectory.size());
  for (size_t i = 0; i < once.trajectory.size(); ++i) EXPECT_EQ(resumed.trajectory[i].mask, once.trajectory[i].mask);
  const auto a = once.net->named_parameters(), b = resumed.net->named_parameters();
  for (const auto& item : a) EXPECT_TRUE(torch::equal(item.value(), b[item.key()])) << item.key();
}

}  // namespace
}  // namespace propnet::search
