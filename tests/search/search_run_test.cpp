// The library's search entry point: a config's budget checked before any data, `search::run` as a
// typed result (the gates mask of the budget, its trajectory and scores; random masks), and the found
// mask retrained with `train_seed`: what a LibTorch project does without the CLI.
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <c10/util/Exception.h>

#include <propnet/search/run.h>
#include "support.h"
#include "search/search_support.h"
#include "train/toy_data.h"

namespace propnet::search {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

ExperimentConfig gates_config(int64_t keep) {
  ExperimentConfig config;
  config.network = fixtures::preresnet8();
  config.train.epochs = 2;
  config.train.batch_size = 32;
  config.train.lr = 0.05;
  config.train.device = c10::Device(c10::kCPU);
  config.search.keep = keep;
  config.search.reselect_every = 2;
  config.data.val_split = 64;
  return config;
}

TEST(SearchPlanTest, TheBudgetIsCheckedBeforeAnyData) {
  ExperimentConfig config = gates_config(7);
  EXPECT_THAT([&] { plan_search(config); },
              ThrowsMessage<c10::ValueError>(HasSubstr("--keep 7: the search space has only 6 sites")));
  config.search.keep = 0;
  EXPECT_THAT([&] { plan_search(config); }, ThrowsMessage<c10::ValueError>(HasSubstr("give a budget")));
  config.search.keep_fraction = 0.5;
  const SearchPlan plan = plan_search(config);
  EXPECT_EQ(plan.budget.sites.keep, 3);
  EXPECT_EQ(plan.budget.label, "f0.5");
  ASSERT_EQ(plan.sites.sites.size(), 6u);
  EXPECT_EQ(plan.sites.sites[0].name, "stage1.0.before_conv1");
  EXPECT_GT(plan.sites.fixed_elements, 0);
}

TEST(SearchRunTest, GatesFindAMaskOfTheBudgetThatRetrains) {
  const ExperimentConfig config = gates_config(3);
  const data::Dataset data = search_data(config, train::toy_dataset(160, 32));
  EXPECT_EQ(data.test.size(), 0);  // a search never sees the test set
  EXPECT_EQ(data.val.size(), 64);
  SearchRunOptions options;
  options.seed = 1;
  std::vector<std::string> messages;
  options.hooks.on_message = [&](const std::string& text) { messages.push_back(text); };
  const SearchResult found = run(config, plan_search(config), data, options);
  ASSERT_TRUE(found.finished()) << found.message;
  ASSERT_EQ(found.masks.size(), 1u);
  EXPECT_EQ(found.mask().units(), 6);
  EXPECT_EQ(found.mask().relus(), 3);
  EXPECT_EQ(found.trajectory.size(), 2u);
  EXPECT_EQ(found.trajectory.back().mask, found.mask().to_string());
  EXPECT_EQ(found.scores.size(), 6u);
  EXPECT_EQ(found.metrics.size(), 2u);
  EXPECT_EQ(found.train_images, 96);
  EXPECT_GT(found.score_steps, 0);
  ASSERT_FALSE(messages.empty());
  EXPECT_THAT(messages.back(), HasSubstr("(3 kept, "));
  EXPECT_EQ(summarize_mask(config.network, found.mask()).kept_sites.size(), 3u);

  ExperimentConfig retrain = config;  // the found mask, trained from scratch as propnet train would
  retrain.network = with_mask(config.network, found.mask());
  data::Dataset full = train::toy_dataset(160, 32);
  const train::SeedResult r =
      train::train_seed(retrain, 0, full, c10::Device(c10::kCPU), train::SeedFiles(""), {}, nullptr);
  EXPECT_EQ(r.status, train::SeedStatus::kDone);
  EXPECT_EQ(r.metrics.size(), 2u);
}

TEST(SearchRunTest, RandomDrawsDistinctMasksOfTheBudgetWithoutData) {
  ExperimentConfig config = gates_config(3);
  config.search.method = SearchMethod::kRandom;
  config.search.count = 4;
  SearchRunOptions options;
  options.seed = 5;
  const SearchResult drawn = run(config, plan_search(config), data::Dataset{}, options);
  ASSERT_EQ(drawn.masks.size(), 4u);
  for (const ReluMask& m : drawn.masks) EXPECT_EQ(m.relus(), 3);
  EXPECT_NE(drawn.masks[0], drawn.masks[1]);
  EXPECT_GE(drawn.masks_with_budget, 4);
  EXPECT_EQ(drawn.wall_seconds, 0);
}

}  // namespace
}  // namespace propnet::search
