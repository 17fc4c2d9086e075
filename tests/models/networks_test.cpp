// Every network of the paper at every depth it uses: shapes, and the spec's parameter, conv and
// ReLU counts (reproduction.md §2.1, §3.5, §4.1), measured by one forward pass.
#include <gtest/gtest.h>
#include <torch/nn/functional/loss.h>
#include <torch/serialize.h>
#include <torch/types.h>

#include <propnet/models/registry.h>
#include <propnet/models/summary.h>
#include "support.h"
#include "models/spec_support.h"

namespace propnet::models {
namespace {

using test::spec_of;

struct Expected {
  std::string arch;
  int64_t depth;
  int64_t params_c10, params_c100;  // spec tables
  int64_t convs;                    // 3x3 and 1x1 convs, shortcut projections included
  int64_t relus_paired;
  std::string proportional;         // a named proportional variant
  int64_t relus_proportional;
};

// Params are the spec's computed figures; conv and ReLU counts follow from the layouts:
// plain: stem + D-2 convs; pre-act: n units x ReLUs per unit + the head's ReLU;
// DFN-MR: stem + 4 per block + 2 projections in each of 2 transitions, final block has 3 ReLUs.
const Expected kPaperNetworks[] = {
    {"plain", 38, 561370, 567220, 37, 37, "proportional", 19},
    {"plain", 62, 950234, 956084, 61, 61, "proportional", 31},
    {"plain", 84, 1327482, 1333332, 83, 83, "proportional", 42},
    {"preresnet", 62, 950234, 956084, 61, 61, "proportional", 31},
    {"preresnet", 110, 1727962, 1733812, 109, 109, "proportional", 55},
    {"preresnet", 164, 2602906, 2608756, 163, 163, "proportional", 82},
    {"preresnet-bottleneck", 110, 1146842, 1169972, 112, 109, "type1", 73},
    {"preresnet-bottleneck", 164, 1703258, 1726388, 166, 163, "type3", 109},
    {"dfn-mr", 110, 1710426, 1716276, 113, 108, "type1", 82},
};

void PrintTo(const Expected& e, std::ostream* os) { *os << e.arch << "-" << e.depth; }

class PaperNetworkTest : public ::testing::TestWithParam<Expected> {
 protected:
  void SetUp() override { torch::manual_seed(0); }
};

TEST_P(PaperNetworkTest, MatchesTheSpecCounts) {
  const Expected& e = GetParam();
  const NetworkSummary c10 = summarize(spec_of(e.arch, e.depth, 10));
  const NetworkSummary c100 = summarize(spec_of(e.arch, e.depth, 100));
  EXPECT_EQ(c10.params, e.params_c10);
  EXPECT_EQ(c100.params, e.params_c100);
  EXPECT_EQ(c10.convs, e.convs);
  EXPECT_EQ(c10.relus, e.relus_paired);
  EXPECT_EQ(c10.ratio, "1:1");
}

TEST_P(PaperNetworkTest, ProportionalVariantCostsExactlyThePairedOne) {
  const Expected& e = GetParam();
  const NetworkSummary paired = summarize(spec_of(e.arch, e.depth, 100));
  const NetworkSummary proportional = summarize(spec_of(e.arch, e.depth, 100, e.proportional));
  EXPECT_EQ(proportional.params, paired.params);
  EXPECT_EQ(proportional.macs, paired.macs);
  EXPECT_EQ(proportional.convs, paired.convs);
  EXPECT_EQ(proportional.relus, e.relus_proportional);
}

TEST_P(PaperNetworkTest, MapsImagesToLogitsForBothCifarHeads) {
  const Expected& e = GetParam();
  for (int64_t classes : {10, 100}) {
    auto net = build_network(spec_of(e.arch, e.depth, classes, e.proportional));
    EXPECT_EQ(net->forward(torch::randn({2, 3, 32, 32})).sizes(), torch::IntArrayRef({2, classes}));
  }
}

INSTANTIATE_TEST_SUITE_P(Paper, PaperNetworkTest, ::testing::ValuesIn(kPaperNetworks),
                         [](const ::testing::TestParamInfo<Expected>& info) {
                           std::string name = info.param.arch + "_" + std::to_string(info.param.depth);
                           for (char& c : name) c = c == '-' ? '_' : c;
                           return name;
                         });

class NetworksTest : public test::Seeded {};

TEST_F(NetworksTest, ShortcutOptionBAddsTheSpecsProjectionParameters) {
  NetworkSpec spec = spec_of("preresnet", 110, 10);
  spec.options.shortcut = Shortcut::kB;
  EXPECT_EQ(summarize(spec).params, 1730522);
  spec.num_classes = 100;
  EXPECT_EQ(summarize(spec).params, 1736372);
}

TEST_F(NetworksTest, WidenedDfnMrReproducesTheReadmeMr2Count) {
  NetworkSpec spec = spec_of("dfn-mr", 62, 10);
  spec.widen_factor = 4;
  EXPECT_EQ(summarize(spec).params, 14851402);  // spec §3.5
  EXPECT_EQ(summarize(spec_of("dfn-mr", 26, 10)).params, 349402);  // fusenet tutorial's 0.3494M
}

TEST_F(NetworksTest, PlainDepth84UsesTheFloorRule) {
  const NetworkSummary s = summarize(spec_of("plain", 84, 100));
  EXPECT_EQ(s.blocks_per_stage, (StageBlocks{27, 27, 28}));
  EXPECT_EQ(summarize(spec_of("plain", 86, 10)).params, 1339098);
}

TEST_F(NetworksTest, PerStageIndexingDiffersFromGlobalOnlyAtTheOddStageBoundary) {
  NetworkSpec spec = spec_of("plain", 84, 100, "proportional");
  const int64_t global = summarize(spec).relus;
  spec.options.plain_indexing = PlainIndexing::kPerStage;
  EXPECT_EQ(summarize(spec).relus, global - 1);  // stage 2 restarts at a removed ReLU: 13 kept, not 14
  spec.depth = 62;
  const int64_t per_stage_62 = summarize(spec).relus;
  spec.options.plain_indexing = PlainIndexing::kGlobal;
  EXPECT_EQ(summarize(spec).relus, per_stage_62);
}

TEST_F(NetworksTest, OneChannelInputsAndAnyClassCount) {
  NetworkSpec spec = spec_of("preresnet", 20, 7);
  spec.in_channels = 1;
  auto net = build_network(spec);
  EXPECT_EQ(net->forward(torch::randn({3, 1, 32, 32})).sizes(), torch::IntArrayRef({3, 7}));
}

TEST_F(NetworksTest, ChildrenAreNamedStemStagesHead) {
  auto net = build_network(spec_of("preresnet", 20, 10));
  std::vector<std::string> names;
  for (const auto& child : net->named_children()) names.push_back(child.key());
  EXPECT_EQ(names, (std::vector<std::string>{"stem", "stage1", "stage2", "stage3", "head"}));
  EXPECT_TRUE(net->named_parameters().contains("stage2.0.conv1.weight"));
  EXPECT_TRUE(net->named_parameters().contains("head.fc.bias"));
}

TEST_F(NetworksTest, InitialisationFollowsTheProtocol) {
  auto net = build_network(spec_of("preresnet", 110, 10));
  const auto params = net->named_parameters();
  EXPECT_TRUE(torch::equal(params["head.fc.bias"], torch::zeros({10})));
  EXPECT_TRUE(torch::equal(params["stage1.0.bn1.weight"], torch::ones({16})));
  const auto w = params["stage3.5.conv1.weight"];  // fan-in 64 * 3 * 3
  EXPECT_NEAR(w.std().item<double>(), std::sqrt(2.0 / (64 * 9)), 0.004);
}

TEST_F(NetworksTest, BackwardReachesEveryParameter) {
  for (const char* arch : {"plain", "resnet", "preresnet", "preresnet-bottleneck", "dfn-mr"}) {
    const int64_t depth = std::string(arch) == "preresnet-bottleneck" ? 29 : std::string(arch) == "dfn-mr" ? 26 : 20;
    auto net = build_network(spec_of(arch, depth, 10));
    torch::nn::functional::cross_entropy(net->forward(torch::randn({4, 3, 32, 32})), torch::tensor({0, 1, 2, 3}))
        .backward();
    for (const auto& p : net->named_parameters()) {
      ASSERT_TRUE(p.value().grad().defined()) << arch << " " << p.key();
      EXPECT_TRUE(torch::isfinite(p.value().grad()).all().item<bool>()) << arch << " " << p.key();
      EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << arch << " " << p.key();
    }
  }
}

TEST_F(NetworksTest, CloneIsIndependent) {
  auto net = build_network(spec_of("dfn-mr", 26, 10, "type1"));
  net->eval();
  auto copy = std::dynamic_pointer_cast<NetworkImpl>(net->clone());
  ASSERT_TRUE(copy);
  const auto x = torch::randn({2, 3, 32, 32});
  EXPECT_TRUE(torch::allclose(copy->forward(x), net->forward(x)));
  {
    torch::NoGradGuard no_grad;
    copy->named_parameters()["stage1.0.branch1_conv1.weight"].mul_(2);
  }
  EXPECT_FALSE(torch::allclose(copy->forward(x), net->forward(x)));
  EXPECT_FALSE(torch::equal(copy->named_parameters()["stage1.0.branch1_conv1.weight"],
                            net->named_parameters()["stage1.0.branch1_conv1.weight"]));
}

TEST_F(NetworksTest, SaveLoadRoundTripReproducesOutputs) {
  const NetworkSpec spec = spec_of("preresnet-bottleneck", 29, 100, "type2");
  auto net = build_network(spec);
  net->forward(torch::randn({8, 3, 32, 32}));  // move the BN running statistics away from their init
  net->eval();
  const auto path = (test::scratch_dir("save-load") / "net.pt").string();
  torch::save(net, path);
  torch::manual_seed(123);
  auto loaded = build_network(spec);
  torch::load(loaded, path);
  loaded->eval();
  const auto x = torch::randn({2, 3, 32, 32});
  EXPECT_TRUE(torch::equal(loaded->forward(x), net->forward(x)));
}

TEST_F(NetworksTest, EvalModeBatchEqualsPerSampleOutputs) {
  auto net = build_network(spec_of("dfn-mr", 26, 10));
  net->eval();
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({3, 3, 32, 32});
  const auto batch = net->forward(x);
  for (int64_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(torch::allclose(batch[i], net->forward(x.slice(0, i, i + 1))[0], 1e-5, 1e-5));
  }
}

}  // namespace
}  // namespace propnet::models
