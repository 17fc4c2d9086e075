#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <propnet/models/registry.h>
#include "models/spec_support.h"

namespace propnet::models {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

using test::spec_of;

TEST(RegistryTest, ListsTheNetworksInTableOrder) {
  EXPECT_THAT(network_names(), ElementsAre("plain", "resnet", "preresnet", "preresnet-bottleneck", "dfn-mr"));
}

TEST(RegistryTest, NamedVariantsMapToTheIssuesMasks) {
  auto mask_of = [](const std::string& arch, const std::string& variant) {
    NetworkSpec spec = spec_of(arch, 110);
    spec.mask.variant = variant;
    return describe_mask(spec).relu_mask;
  };
  EXPECT_EQ(mask_of("plain", "proportional"), "01");
  EXPECT_EQ(mask_of("resnet", "proportional"), "01");
  EXPECT_EQ(mask_of("resnet", "remove-last"), "10");
  EXPECT_EQ(mask_of("preresnet", "proportional"), "01");
  EXPECT_EQ(mask_of("preresnet-bottleneck", "type1"), "011");
  EXPECT_EQ(mask_of("preresnet-bottleneck", "type2"), "101");
  EXPECT_EQ(mask_of("preresnet-bottleneck", "type3"), "110");
  EXPECT_EQ(mask_of("dfn-mr", "type1"), "1011");
  EXPECT_EQ(mask_of("dfn-mr", "type2"), "0111");
  EXPECT_EQ(mask_of("dfn-mr", "paired"), "1111");
}

TEST(RegistryTest, ExplicitMaskOverridesTheVariantAndIsNamedWhenItMatches) {
  NetworkSpec spec = spec_of("preresnet-bottleneck", 110);
  spec.mask = NetworkMask::bits("101");
  EXPECT_EQ(describe_mask(spec).variant, "type2");
  spec.mask = NetworkMask::bits("001");
  EXPECT_EQ(describe_mask(spec).variant, "custom");
}

TEST(RegistryTest, UnknownNetworkListsTheValidNames) {
  EXPECT_THAT([] { build_network(spec_of("resnext", 29)); },
              ThrowsMessage<c10::ValueError>(HasSubstr(
                  "unknown network \"resnext\"; expected one of: plain, resnet, preresnet, preresnet-bottleneck, dfn-mr")));
}

TEST(RegistryTest, BadDepthNamesTheRuleAndTheNearestValidDepths) {
  EXPECT_THAT([] { build_network(spec_of("preresnet-bottleneck", 111)); },
              ThrowsMessage<c10::ValueError>(HasSubstr(
                  "preresnet-bottleneck: depth must be 9n+2 (got 111); nearest valid depths are 110 and 119")));
  EXPECT_THAT([] { build_network(spec_of("preresnet", 100)); },
              ThrowsMessage<c10::ValueError>(HasSubstr("depth must be 6n+2 (got 100); nearest valid depths are 98 and 104")));
  EXPECT_THAT([] { build_network(spec_of("dfn-mr", 8)); },
              ThrowsMessage<c10::ValueError>(HasSubstr("the smallest valid depth is 14")));
}

TEST(RegistryTest, BadMaskNamesTheBlockSites) {
  NetworkSpec spec = spec_of("dfn-mr", 110);
  spec.mask = NetworkMask::bits("101");
  EXPECT_THAT([&] { build_network(spec); },
              ThrowsMessage<c10::ValueError>(HasSubstr(
                  "dfn-mr: expected a relu_mask of 4 characters '0' (removed) or '1' (kept) over the MergeAndRun "
                  "sites (branch1_mid, branch1_after_add, branch2_mid, branch2_after_add), repeated over every unit, or "
                  "107 characters, one per site instance of dfn-mr-110 (got \"101\")")));
  spec = spec_of("preresnet", 110);
  spec.mask = NetworkMask::bits("011");
  EXPECT_THAT([&] { build_network(spec); }, ThrowsMessage<c10::ValueError>(HasSubstr("(before_conv1, before_conv2)")));
  // Bits other than '0' and '1' cannot make a mask at all.
  EXPECT_THAT([] { NetworkMask::bits("1a"); }, ThrowsMessage<c10::ValueError>(HasSubstr("'a' at position 1")));
}

TEST(RegistryTest, UnknownVariantListsTheNetworksVariants) {
  NetworkSpec spec = spec_of("preresnet-bottleneck", 110);
  spec.mask.variant = "proportional";
  EXPECT_THAT([&] { build_network(spec); },
              ThrowsMessage<c10::ValueError>(HasSubstr("unknown variant \"proportional\"; expected one of: paired, "
                                                       "type1, type2, type3")));
}

TEST(RegistryTest, WidenFactorIsForDfnMrOnly) {
  NetworkSpec spec = spec_of("preresnet", 20);
  spec.widen_factor = 2;
  EXPECT_THAT([&] { build_network(spec); },
              ThrowsMessage<c10::ValueError>(HasSubstr("expected widen_factor 1 (got 2); it applies to dfn-mr only")));
}

TEST(DepthRuleTest, FloorRuleGivesLaterStagesTheRemainder) {
  const DepthRule plain{1, false, "plain rule"};
  EXPECT_EQ(blocks_per_stage("plain", plain, 84), (StageBlocks{27, 27, 28}));
  EXPECT_EQ(blocks_per_stage("plain", plain, 38), (StageBlocks{12, 12, 12}));
  const DepthRule merge{4, false, "merge rule"};
  EXPECT_EQ(blocks_per_stage("dfn-mr", merge, 110), (StageBlocks{9, 9, 9}));
  EXPECT_EQ(blocks_per_stage("dfn-mr", merge, 18), (StageBlocks{1, 1, 2}));
}

}  // namespace
}  // namespace propnet::models
