// Which ReLU site instances fire, for every named variant of every family, network masks, selectors
// and mask files: measured by the op counter, named by module path, and located physically by
// whether the conv that consumes a site sees a rectified input.
#include <algorithm>
#include <fstream>
#include <map>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <propnet/config.h>
#include <c10/util/Exception.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <propnet/models/registry.h>
#include <propnet/nn/op_counter.h>
#include "support.h"
#include "models/spec_support.h"

namespace propnet::models {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;
using ::testing::UnorderedElementsAreArray;
using Names = std::vector<std::string>;

using test::spec_of;

// Every `unit` prefix with every site: the expectation written out, independent of site_names().
Names cross(const Names& units, const Names& sites) {
  Names out;
  for (const auto& u : units) {
    for (const auto& s : sites) out.push_back(u + "." + s);
  }
  return out;
}

Names operator+(Names a, const Names& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

struct Forward {
  Names fired;                             // sites whose ReLU ran
  Names passed;                            // every site met
  std::map<std::string, bool> rectified;   // conv path -> its input was >= 0
};

Forward forward(const NetworkSpec& spec) {
  torch::manual_seed(0);
  Network net = build_network(spec);
  net->eval();
  torch::NoGradGuard no_grad;
  CountingScope scope;
  net->forward(torch::randn({2, spec.in_channels, 32, 32}));
  Forward f;
  for (const SiteEvent& e : named_sites(*net, scope)) {
    f.passed.push_back(e.name);
    if (e.applied) f.fired.push_back(e.name);
  }
  for (const ConvEvent& e : named_convs(*net, scope)) f.rectified[e.name] = e.nonnegative_input;
  return f;
}

Names fired(const NetworkSpec& spec) { return forward(spec).fired; }

// The conv each maskable site feeds, by the blocks' layouts (spec §2-§5): a pre-activation site
// before_convK feeds convK of its unit; a post-activation site feeds the next conv on the path.
std::map<std::string, std::string> consumers(const std::string& arch, const StageBlocks& blocks) {
  std::map<std::string, std::string> out;
  std::vector<std::string> units;  // "stage2.1"
  for (int s = 0; s < 3; ++s) {
    for (int64_t u = 0; u < blocks[s]; ++u) units.push_back("stage" + std::to_string(s + 1) + "." + std::to_string(u));
  }
  for (size_t i = 0; i < units.size(); ++i) {
    const std::string& u = units[i];
    const bool has_next = i + 1 < units.size();
    const std::string next = has_next ? units[i + 1] : "";
    if (arch == "plain") {  // stageS.I.after_conv feeds the next conv: stageS.conv{I+1}, or the next stage's conv0
      if (has_next) {
        const auto dot = next.find('.');
        out[u + ".after_conv"] = next.substr(0, dot) + ".conv" + next.substr(dot + 1);
      }
    } else if (arch == "resnet") {
      out[u + ".after_bn1"] = u + ".conv2";
      if (has_next) out[u + ".after_add"] = next + ".conv1";
    } else if (arch == "dfn-mr") {
      out[u + ".branch1_mid"] = u + ".branch1_conv2";
      out[u + ".branch2_mid"] = u + ".branch2_conv2";
      if (has_next) {
        out[u + ".branch1_after_add"] = next + ".branch1_conv1";
        out[u + ".branch2_after_add"] = next + ".branch2_conv1";
      }
    } else {
      for (int k = 1; k <= 3; ++k) out[u + ".before_conv" + std::to_string(k)] = u + ".conv" + std::to_string(k);
    }
  }
  return out;
}

// Each site's consumer conv sees a rectified input exactly when the site fired.
void expect_sites_where_they_belong(const NetworkSpec& spec) {
  const Forward f = forward(spec);
  int checked = 0;
  for (const auto& [site, conv] : consumers(spec.arch, stage_blocks(spec))) {
    if (std::find(f.passed.begin(), f.passed.end(), site) == f.passed.end()) continue;  // not a site of this net
    ASSERT_TRUE(f.rectified.count(conv)) << conv;
    const bool fired = std::find(f.fired.begin(), f.fired.end(), site) != f.fired.end();
    EXPECT_EQ(f.rectified.at(conv), fired) << spec.arch << " " << mask_text(spec) << ": " << site
                                           << " fired " << fired << " but " << conv << " saw a "
                                           << (fired ? "signed" : "rectified") << " input";
    ++checked;
  }
  EXPECT_GT(checked, 4);
}

const Names kStages112 = {"stage1.0", "stage2.0", "stage3.0"};
const Names kStages222 = {"stage1.0", "stage1.1", "stage2.0", "stage2.1", "stage3.0", "stage3.1"};

TEST(ReluSitesTest, PlainFiresTheCyclicMaskOverItsConvs) {
  // plain-8: 2 + 2 + 2 convs after the stem; "01" keeps the odd-numbered ones of the global count.
  const Names all = {"stage1.0.after_conv", "stage1.1.after_conv", "stage2.0.after_conv",
                     "stage2.1.after_conv", "stage3.0.after_conv", "stage3.1.after_conv"};
  EXPECT_THAT(fired(spec_of("plain", 8)), ElementsAreArray(Names{"stem.relu"} + all));
  EXPECT_THAT(fired(spec_of("plain", 8, "proportional")),
              ElementsAreArray(Names{"stem.relu", "stage1.1.after_conv", "stage2.1.after_conv", "stage3.1.after_conv"}));
  NetworkSpec three = spec_of("plain", 8);  // plain-8 with "011": global numbering runs on across stages
  three.mask = NetworkMask::bits("011");    // convs 0-5 -> 0 1 1 0 1 1
  EXPECT_THAT(fired(three), ElementsAreArray(Names{"stem.relu", "stage1.1.after_conv", "stage2.0.after_conv",
                                                   "stage3.0.after_conv", "stage3.1.after_conv"}));
  three.options.plain_indexing = PlainIndexing::kPerStage;
  EXPECT_THAT(fired(three), ElementsAreArray(Names{"stem.relu", "stage1.1.after_conv", "stage2.1.after_conv",
                                                   "stage3.1.after_conv"}));
  for (const char* v : {"paired", "proportional"}) expect_sites_where_they_belong(spec_of("plain", 8, v));
}

TEST(ReluSitesTest, ResnetVariantsFireTheirSites) {
  const NetworkSpec paired = spec_of("resnet", 8);  // 1 / 1 / 1 basic blocks
  EXPECT_THAT(fired(paired), UnorderedElementsAreArray(Names{"stem.relu"} + cross(kStages112, {"after_bn1", "after_add"})));
  EXPECT_THAT(fired(spec_of("resnet", 8, "proportional")),
              UnorderedElementsAreArray(Names{"stem.relu"} + cross(kStages112, {"after_add"})));
  EXPECT_THAT(fired(spec_of("resnet", 8, "remove-last")),
              UnorderedElementsAreArray(Names{"stem.relu"} + cross(kStages112, {"after_bn1"})));
  for (const char* v : {"paired", "proportional", "remove-last"}) expect_sites_where_they_belong(spec_of("resnet", 8, v));
}

TEST(ReluSitesTest, PreresnetVariantsFireTheirSites) {
  EXPECT_THAT(fired(spec_of("preresnet", 14)),
              UnorderedElementsAreArray(cross(kStages222, {"before_conv1", "before_conv2"}) + Names{"head.relu"}));
  EXPECT_THAT(fired(spec_of("preresnet", 14, "proportional")),
              UnorderedElementsAreArray(cross(kStages222, {"before_conv2"}) + Names{"head.relu"}));
  for (const char* v : {"paired", "proportional"}) expect_sites_where_they_belong(spec_of("preresnet", 14, v));
}

TEST(ReluSitesTest, BottleneckTypesFireTheirSites) {
  const std::map<std::string, Names> kept = {{"paired", {"before_conv1", "before_conv2", "before_conv3"}},
                                             {"type1", {"before_conv2", "before_conv3"}},
                                             {"type2", {"before_conv1", "before_conv3"}},
                                             {"type3", {"before_conv1", "before_conv2"}}};
  for (const auto& [variant, sites] : kept) {
    SCOPED_TRACE(variant);
    const NetworkSpec spec = spec_of("preresnet-bottleneck", 20, variant);  // 2 / 2 / 2 units
    EXPECT_THAT(fired(spec), UnorderedElementsAreArray(cross(kStages222, sites) + Names{"head.relu"}));
    expect_sites_where_they_belong(spec);
  }
}

TEST(ReluSitesTest, DfnMrTypesFireTheirSitesAndTheMergingBlocksOne) {
  // dfn-mr-14: 1 / 1 / 1 blocks; stage 3's block merges both branches under one ReLU (spec §3.4, §3.6).
  const Names first_two = {"stage1.0", "stage2.0"};
  EXPECT_THAT(fired(spec_of("dfn-mr", 14)),
              UnorderedElementsAreArray(Names{"stem.relu"} +
                                        cross(first_two, {"branch1_mid", "branch1_after_add", "branch2_mid", "branch2_after_add"}) +
                                        cross({"stage3.0"}, {"branch1_mid", "branch2_mid", "after_merge"})));
  EXPECT_THAT(fired(spec_of("dfn-mr", 14, "type1")),
              UnorderedElementsAreArray(Names{"stem.relu"} +
                                        cross(first_two, {"branch1_mid", "branch2_mid", "branch2_after_add"}) +
                                        cross({"stage3.0"}, {"branch1_mid", "branch2_mid", "after_merge"})));
  EXPECT_THAT(fired(spec_of("dfn-mr", 14, "type2")),
              UnorderedElementsAreArray(Names{"stem.relu"} +
                                        cross(first_two, {"branch1_after_add", "branch2_mid", "branch2_after_add"}) +
                                        cross({"stage3.0"}, {"branch2_mid", "after_merge"})));
  for (const char* v : {"paired", "type1", "type2"}) expect_sites_where_they_belong(spec_of("dfn-mr", 18, v));
}

TEST(ReluSitesTest, ShortcutKeptReluIsAFixedSiteOfItsUnit) {
  NetworkSpec spec = spec_of("preresnet", 14, "proportional");
  spec.options.shortcut_keeps_relu = true;
  const Names expected = cross(kStages222, {"before_conv2"}) + Names{"stage1.0.shortcut_relu", "stage2.0.shortcut_relu",
                                                                     "stage3.0.shortcut_relu", "head.relu"};
  EXPECT_THAT(fired(spec), UnorderedElementsAreArray(expected));
}

TEST(ReluSitesTest, NetworkMaskSetsEverySiteInstance) {
  NetworkSpec spec = spec_of("preresnet", 14);
  spec.mask = NetworkMask::bits("11.01_10 00.11.10");  // stage1.0, stage1.1, stage2.0, stage2.1, stage3.0, stage3.1
  EXPECT_THAT(fired(spec), UnorderedElementsAreArray(Names{
                               "stage1.0.before_conv1", "stage1.0.before_conv2", "stage1.1.before_conv2",
                               "stage2.0.before_conv1", "stage3.0.before_conv1", "stage3.0.before_conv2",
                               "stage3.1.before_conv1", "head.relu"}));
  expect_sites_where_they_belong(spec);
  NetworkSpec dfn = spec_of("dfn-mr", 14);  // 4 + 4 + 3 sites
  dfn.mask = NetworkMask::bits("1010.0101.110");
  EXPECT_THAT(fired(dfn), UnorderedElementsAreArray(Names{
                              "stem.relu", "stage1.0.branch1_mid", "stage1.0.branch2_mid", "stage2.0.branch1_after_add",
                              "stage2.0.branch2_after_add", "stage3.0.branch1_mid", "stage3.0.branch2_mid"}));
}

TEST(ReluSitesTest, WrongLengthNamesBothAcceptedLengths) {
  NetworkSpec spec = spec_of("preresnet", 14);
  spec.mask = NetworkMask::bits("01011");
  EXPECT_THAT([&] { resolve_network_mask(spec); },
              ThrowsMessage<c10::ValueError>(HasSubstr("expected a relu_mask of 2 characters '0' (removed) or '1' (kept) "
                                                       "over the PreActBlock sites (before_conv1, before_conv2), repeated "
                                                       "over every unit, or 12 characters, one per site instance of "
                                                       "preresnet-14 (got \"01011\")")));
  spec = spec_of("dfn-mr", 110);
  spec.mask = NetworkMask::bits("101");
  EXPECT_THAT([&] { resolve_network_mask(spec); }, ThrowsMessage<c10::ValueError>(HasSubstr("or 107 characters")));
}

TEST(ReluSitesTest, SelectorsDropMatchingSitesOnTopOfTheVariant) {
  NetworkSpec spec = spec_of("preresnet", 14, "proportional");
  spec.mask.drop = {"stage3.*", "stage*.0.before_conv2"};
  EXPECT_THAT(fired(spec), UnorderedElementsAreArray(Names{"stage1.1.before_conv2", "stage2.1.before_conv2", "head.relu"}));
  EXPECT_EQ(mask_text(with_resolved_mask(spec)), "00.01.00.01.00.00");
  spec.mask.drop = {"stage4.*"};
  EXPECT_THAT([&] { resolve_network_mask(spec); },
              ThrowsMessage<c10::ValueError>(HasSubstr("relu_drop \"stage4.*\" matches no site of preresnet-14")));
  spec.mask.drop = {"head.relu"};  // fixed sites are not maskable
  EXPECT_THROW(resolve_network_mask(spec), c10::ValueError);
}

TEST(ReluSitesTest, MaskFilesAreReadAtTheConfigEdgeNeverByANetwork) {
  const auto dir = test::scratch_dir("mask-files");
  std::ofstream(dir / "mask.txt") << "# found by hand\n11.00\n\n01.01\n10 10\n";
  std::ofstream(dir / "search.json") << R"({"relu_mask": "11.11.11.11.11.00", "kept_sites": 10})";
  std::ofstream(dir / "bad.json") << R"({"mask": "11"})";
  // A NetworkSpec holds keep-bits, not a file name: what loading a config does is read the file into them.
  NetworkSpec spec = spec_of("preresnet", 14);
  spec.mask = NetworkMask::bits(read_relu_mask_file((dir / "mask.txt").string()));
  EXPECT_EQ(format_network_mask(spec, resolve_network_mask(spec)), "11.00.01.01.10.10");
  EXPECT_EQ(mask_text(spec), "11.00.01.01.10.10");
  spec.mask = NetworkMask::bits(read_relu_mask_file((dir / "search.json").string()));
  EXPECT_THAT(fired(spec), UnorderedElementsAreArray(cross({"stage1.0", "stage1.1", "stage2.0", "stage2.1", "stage3.0"},
                                                           {"before_conv1", "before_conv2"}) + Names{"head.relu"}));
  EXPECT_THAT([&] { read_relu_mask_file((dir / "bad.json").string()); },
              ThrowsMessage<c10::ValueError>(HasSubstr("bad.json\": expected a \"relu_mask\"")));
  EXPECT_THAT([&] { read_relu_mask_file((dir / "missing.txt").string()); },
              ThrowsMessage<c10::ValueError>(HasSubstr("missing.txt\": cannot open")));

  const ExperimentConfig c = parse_config(R"({"network": {"arch": "preresnet", "depth": 14, "relu_mask_file": ")" +
                                              (dir / "mask.txt").string() + R"("}})", "t.json");
  EXPECT_EQ(c.network.mask, NetworkMask::bits("11.00.01.01.10.10"));  // the file's lines, joined as units
  EXPECT_EQ(c.relu_mask_file, (dir / "mask.txt").string());
}

TEST(ReluSitesTest, AFileOfWholeMasksOnePerLineSaysSoAndHowToPickOne) {
  // What search --method random writes as masks.txt: each line a whole network mask of preresnet-14.
  const auto dir = test::scratch_dir("masks-txt");
  std::ofstream(dir / "masks.txt") << "110001011010\n011011000111\n101010101010\n";
  const std::string text = R"({"network": {"arch": "preresnet", "depth": 14, "relu_mask_file": ")" +
                           (dir / "masks.txt").string() + R"("}})";
  EXPECT_THAT([&] { parse_config(text, "t.json"); },
              ThrowsMessage<c10::ValueError>(HasSubstr("masks.txt\": holds 3 masks, one per line (as search --method "
                                                       "random writes masks.txt), not one; pick one, e.g. the first: "
                                                       "--relu-mask \"$(sed -n 1p ")));
  std::ofstream(dir / "masks.txt") << "110001011010\n";  // one line is one mask
  EXPECT_EQ(parse_config(text, "t.json").network.mask, NetworkMask::bits("11.00.01.01.10.10"));
}

TEST(ReluSitesTest, SitesListEveryInstanceWithItsShapeAndElements) {
  // reproduction counts (relu-search.md §1): preresnet-8 has 6 sites with 69,632 elements paired, +4,096 head.
  Network net = build_network(spec_of("preresnet", 8));
  const std::vector<ReluSite> sites = net->relu_sites();
  ASSERT_EQ(sites.size(), 7u);
  int64_t maskable = 0;
  for (const ReluSite& s : sites) maskable += s.fixed ? 0 : s.elements();
  EXPECT_EQ(maskable, 69632);
  EXPECT_EQ(sites.back().name, "head.relu");
  EXPECT_TRUE(sites.back().fixed);
  EXPECT_EQ(sites.back().elements(), 4096);
  EXPECT_EQ(sites[2].name, "stage2.0.before_conv1");  // at the stage input's 32x32, 16 channels
  EXPECT_EQ(sites[2].channels * 1000 + sites[2].height, 16032);
  EXPECT_EQ(sites[3].name, "stage2.0.before_conv2");  // after the stride-2 conv1
  EXPECT_EQ((std::vector<int64_t>{sites[3].stage, sites[3].unit, sites[3].index, sites[3].mask_bit, sites[3].channels,
                                  sites[3].height, sites[3].width}),
            (std::vector<int64_t>{2, 0, 1, 3, 32, 16, 16}));
  // In network-mask order, numbered as site_names, and the same list the forward pass meets.
  const Names names = site_names(net->spec());
  for (size_t i = 0; i + 1 < sites.size(); ++i) {
    EXPECT_EQ(sites[i].name, names[i]);
    EXPECT_EQ(sites[i].mask_bit, static_cast<int64_t>(i));
  }
  // plain-38 and preresnet-20 elements (relu-search.md §1): 344,064 + 16,384 stem; 184,320 + 4,096 head.
  auto elements = [](const NetworkSpec& spec, bool fixed) {  // of the kept sites
    int64_t total = 0;
    for (const ReluSite& s : build_network(spec)->relu_sites()) total += s.fixed == fixed && s.kept ? s.elements() : 0;
    return total;
  };
  EXPECT_EQ(elements(spec_of("plain", 38), false), 344064);
  EXPECT_EQ(elements(spec_of("plain", 38), true), 16384);
  EXPECT_EQ(elements(spec_of("preresnet", 20), false), 184320);
  EXPECT_EQ(elements(spec_of("preresnet", 20, "proportional"), false) + 4096, 90112);
}

TEST(ReluSitesTest, SitesMarkRemovedOnesAndLeaveTheNetworkAsItWas) {
  Network net = build_network(spec_of("preresnet-bottleneck", 11, "type2"));
  net->train();
  const auto before = net->named_buffers()["stage1.0.bn1.running_mean"].clone();
  const std::vector<ReluSite> sites = net->relu_sites();
  EXPECT_TRUE(net->is_training());
  EXPECT_TRUE(torch::equal(before, net->named_buffers()["stage1.0.bn1.running_mean"]));
  std::vector<std::string> removed;
  for (const ReluSite& s : sites) {
    if (!s.kept) removed.push_back(s.name);
  }
  EXPECT_THAT(removed, ElementsAreArray(Names{"stage1.0.before_conv2", "stage2.0.before_conv2", "stage3.0.before_conv2"}));
}

}  // namespace
}  // namespace propnet::models
