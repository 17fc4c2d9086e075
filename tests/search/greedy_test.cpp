// The `greedy` search: an inert site costs nothing and goes first, budgets (sites or elements) and
// the stage minimum hold, measurements leave weights and BN buffers alone, and it is deterministic.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <c10/core/Device.h>
#include <c10/util/Exception.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <propnet/models/network.h>
#include <propnet/search/greedy.h>
#include "search/search_support.h"
#include "train/toy_data.h"

namespace propnet::search {
namespace {

using fixtures::kSixSites;
using fixtures::preresnet8;

struct Trained {
  data::Dataset data;
  GatedNetwork net{nullptr};
};

// preresnet-8 trained one epoch on the toy problem with every ReLU; `prepare` runs before training.
Trained trained(const std::function<void(models::Network&)>& prepare = {}) {
  Trained t{data::hold_out_validation(train::toy_dataset(160, 32), 64), nullptr};
  torch::manual_seed(0);
  models::Network net(preresnet8());
  if (prepare) prepare(net);
  t.net = GatedNetwork(net);
  train::TrainerOptions o;
  o.spec.epochs = 1;
  o.spec.batch_size = 32;
  o.spec.lr = 0.05;
  o.spec.channels_last = false;
  o.device = c10::Device(c10::kCPU);
  train::Trainer(t.net, t.data, o).run();
  return t;
}

GreedyOptions keep(int64_t k, int64_t min_per_stage = 1) {
  GreedyOptions o;
  o.budget = {k, min_per_stage};
  o.batches = 2;
  o.batch_size = 32;
  return o;
}

GreedyResult run(Trained& t, const GreedyOptions& o) {
  return greedy_removal(t.net, t.data.val, data::Normalizer(t.data.mean, t.data.std), SearchSpace(kSixSites), o);
}

TEST(GreedyTest, AnInertSiteCostsNothingAndIsRemovedFirst) {
  Trained t = trained([](models::Network& net) {
    torch::NoGradGuard no_grad;  // BN(x) + 100 >= 0: stage2.0's first ReLU is the identity
    net->named_parameters()["stage2.0.bn1.bias"].fill_(100);
  });
  const GreedyResult g = run(t, keep(3, 0));
  EXPECT_EQ(g.first_costs[2], 0.0);  // removing an identity changes no bit of the loss
  ASSERT_EQ(g.rounds.size(), 3u);
  // Removed in the first round where no removal lowers the loss (a barely trained net may have sites
  // whose ReLU hurts; those rightly go before it), and at no cost.
  double previous = g.base_loss;
  size_t r = 0;
  for (; r < g.rounds.size() && g.rounds[r].removed != 2; ++r) {
    EXPECT_LT(g.rounds[r].val_loss, previous) << "round " << r << " removed a costly site before the inert one";
    previous = g.rounds[r].val_loss;
  }
  ASSERT_LT(r, g.rounds.size()) << "the inert site was never removed";
  EXPECT_EQ(g.rounds[r].val_loss, previous);
  EXPECT_FALSE(g.mask.keeps(2));
}

TEST(GreedyTest, BudgetsAndStageMinimumsHoldAndNothingTrainedChanges) {
  Trained t = trained();
  const auto before = t.net->net->named_buffers();
  std::vector<at::Tensor> saved;
  for (const auto& b : before) saved.push_back(b.value().clone());
  const auto weights = t.net->net->parameters()[0].clone();
  const GreedyResult g = run(t, keep(3));
  EXPECT_TRUE(meets(g.mask, kSixSites, {3, 1})) << g.mask.to_string();
  EXPECT_EQ(g.mask, t.net->mask());  // left with the final mask
  EXPECT_EQ(g.measurements, 1 + 6 + 4 + 2);  // base, then each round's removable sites (a stage at 1 is not)
  size_t i = 0;
  for (const auto& b : before) EXPECT_TRUE(torch::equal(b.value(), saved[i++])) << b.key();
  EXPECT_TRUE(torch::equal(weights, t.net->net->parameters()[0]));
  EXPECT_EQ(run(t, keep(3)).mask, g.mask);  // deterministic
  EXPECT_EQ(run(t, keep(6)).rounds.size(), 0u);  // keep everything: the paired mask, no round

  GreedyOptions elements = keep(0);
  elements.elements.max_elements = 3 * 4096 + 2048;  // per-site elements, made up: stage 1 costs most
  elements.elements.elements = {8192, 8192, 4096, 4096, 2048, 2048};
  elements.elements.min_keep_per_stage = 1;
  const GreedyResult e = run(t, elements);
  int64_t used = 0;
  for (int64_t s = 0; s < 6; ++s) used += e.mask.keeps(s) ? elements.elements.elements[static_cast<size_t>(s)] : 0;
  EXPECT_LE(used, elements.elements.max_elements) << e.mask.to_string();
  EXPECT_TRUE(e.mask.keeps(0) || e.mask.keeps(1));  // still one site per stage
}

TEST(SelectMaskWithinTest, FillsTheElementBudgetByScorePerElement) {
  ElementBudget b;
  b.max_elements = 10;
  b.elements = {8, 2, 4, 4, 1, 1};
  b.min_keep_per_stage = 1;
  // Per element: 1.0, 2.5, 0.5, 1.0, 3.0, 0.0 -> minimum per stage (sites 1, 3, 4), then site 5 fits, 0 and 2 do not.
  EXPECT_EQ(select_mask_within({8, 5, 2, 4, 3, 0}, kSixSites, b).to_string(), "010111");
  // A harmful ReLU (score < 0) is worse the bigger it is: with room for one of two, the small one stays.
  ElementBudget room = b;
  room.min_keep_per_stage = 0;
  room.max_elements = 18;  // the positive sites take 10; then 2 of site 1 fit, not 8 more of site 0
  EXPECT_EQ(select_mask_within({-1, -1, 1, 1, 1, 1}, kSixSites, room).to_string(), "011111");
  b.max_elements = 3;
  EXPECT_THAT([&] { select_mask_within({8, 5, 2, 4, 3, 0}, kSixSites, b); },
              ::testing::ThrowsMessage<c10::ValueError>(::testing::HasSubstr("already take 7 ReLU elements")));
}

}  // namespace
}  // namespace propnet::search
