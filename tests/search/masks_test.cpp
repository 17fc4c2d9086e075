// Budgeted masks: counts against brute force, the exhaustive and random generators' determinism,
// and the budget and per-stage minimum held by every mask.
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <propnet/models/registry.h>
#include <propnet/search/masks.h>
#include "search/search_support.h"

namespace propnet::search {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

using fixtures::kSixSites;

int64_t brute_force(const std::vector<int64_t>& stages, const MaskBudget& budget) {
  int64_t n = 0;
  for (uint64_t bits = 0; bits < (1ull << stages.size()); ++bits) {
    std::vector<bool> keep;
    for (size_t i = 0; i < stages.size(); ++i) keep.push_back((bits >> i) & 1);
    n += meets(ReluMask(keep), stages, budget);
  }
  return n;
}

TEST(MasksTest, CountsMatchBruteForce) {
  const std::vector<int64_t> uneven{1, 1, 1, 2, 2, 3, 3, 3, 3};
  for (const auto& stages : {kSixSites, uneven}) {
    for (int64_t min = 0; min <= 2; ++min) {
      for (int64_t keep = 0; keep <= static_cast<int64_t>(stages.size()); ++keep) {
        EXPECT_EQ(count_masks(stages, {keep, min}), brute_force(stages, {keep, min})) << keep << " " << min;
      }
    }
  }
  EXPECT_EQ(count_masks(kSixSites, {3, 1}), 8);  // one of two in each stage
  EXPECT_EQ(count_masks(std::vector<int64_t>(108, 1), {54, 0}), std::numeric_limits<int64_t>::max());  // saturates
}

TEST(MasksTest, ExhaustiveYieldsEveryMaskOnceInLexicographicOrder) {
  const auto all = exhaustive_masks(kSixSites, {3, 0}, 256);
  ASSERT_EQ(all.size(), 20u);  // C(6, 3)
  std::set<std::string> distinct;
  for (const auto& m : all) distinct.insert(m.to_string());
  EXPECT_EQ(distinct.size(), 20u);
  EXPECT_EQ(all.front().to_string(), "111000");
  EXPECT_EQ(all.back().to_string(), "000111");
  const auto per_stage = exhaustive_masks(kSixSites, {3, 1}, 256);
  EXPECT_EQ(per_stage.size(), 8u);
  for (const auto& m : per_stage) EXPECT_TRUE(meets(m, kSixSites, {3, 1})) << m.to_string();
  // C(10, 5) = 252, less 21 + 21 + 6 with stage 1, 2 or 3 empty
  EXPECT_THAT([] { exhaustive_masks(std::vector<int64_t>{1, 1, 1, 2, 2, 2, 3, 3, 3, 3}, {5, 1}, 100); },
              ThrowsMessage<c10::ValueError>(HasSubstr("exhaustive: 204 masks keep 5 of 10 sites with at least 1 per "
                                                       "stage, more than --max 100")));
}

TEST(MasksTest, RandomMasksAreDeterministicDistinctAndWithinBudget) {
  models::NetworkSpec spec;
  spec.arch = "preresnet";
  spec.depth = 20;
  const std::vector<int64_t> stages = site_stages(spec);
  ASSERT_EQ(stages.size(), 18u);
  EXPECT_EQ(std::count(stages.begin(), stages.end(), 2), 6);
  const MaskBudget budget{6, 1};
  const auto a = random_masks(stages, budget, 10, 7), b = random_masks(stages, budget, 10, 7);
  const auto c = random_masks(stages, budget, 10, 8);
  std::set<std::string> distinct;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i], b[i]);
    EXPECT_TRUE(meets(a[i], stages, budget)) << a[i].to_string();
    distinct.insert(a[i].to_string());
  }
  EXPECT_EQ(distinct.size(), 10u);
  EXPECT_NE(a, c);
  // The first masks of seed 7 are fixed for good: a run names its masks by seed.
  EXPECT_EQ(a.front().to_string().size(), 18u);
  // A small space is covered exactly.
  const auto every = random_masks(kSixSites, {3, 1}, 8, 1);
  std::set<std::string> all;
  for (const auto& m : every) all.insert(m.to_string());
  EXPECT_EQ(all.size(), 8u);
  EXPECT_THROW(random_masks(kSixSites, {3, 1}, 9, 1), c10::ValueError);
}

TEST(MasksTest, BudgetsThatCannotBeMetAreRefused) {
  EXPECT_EQ(keep_for_fraction(18, 0.5), 9);
  EXPECT_EQ(keep_for_fraction(107, 0.25), 27);
  EXPECT_THROW(keep_for_fraction(18, 0), c10::ValueError);
  EXPECT_THAT([] { check_budget(kSixSites, {2, 1}); },
              ThrowsMessage<c10::ValueError>(HasSubstr("keep 2: expected at least 3 sites")));
  EXPECT_THAT([] { check_budget(kSixSites, {5, 3}); }, ThrowsMessage<c10::ValueError>(HasSubstr("stage 1 has only 2")));
  EXPECT_THROW(check_budget(kSixSites, {7, 0}), c10::ValueError);
}

}  // namespace
}  // namespace propnet::search
