#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <c10/util/Exception.h>

#include <propnet/choices.h>
#include <propnet/config.h>
#include <propnet/data/dataset.h>
#include "support.h"
#include "config/config_support.h"

namespace propnet {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::ThrowsMessage;
using test::expect_error;
using test::parse;
using test::with_train;

bool same(const ExperimentConfig& a, const ExperimentConfig& b) {
  const auto& n = a.network;
  const auto& m = b.network;
  const auto& o = n.options;
  const auto& p = m.options;
  const bool network = n.arch == m.arch && n.depth == m.depth && n.num_classes == m.num_classes &&
                       n.in_channels == m.in_channels && n.mask == m.mask && a.relu_mask_file == b.relu_mask_file &&
                       n.widen_factor == m.widen_factor && o.shortcut == p.shortcut &&
                       o.shared_preactivation == p.shared_preactivation &&
                       o.shortcut_keeps_relu == p.shortcut_keeps_relu && o.bottleneck_stride == p.bottleneck_stride &&
                       o.final_merge == p.final_merge && o.plain_indexing == p.plain_indexing &&
                       o.conv_init == p.conv_init && o.bn_eps == p.bn_eps && o.bn_momentum == p.bn_momentum;
  const auto& d = a.data;
  const auto& e = b.data;
  const bool data = d.dataset == e.dataset && d.dir == e.dir && d.coarse_labels == e.coarse_labels &&
                    d.subset == e.subset && d.test_subset == e.test_subset && d.val_split == e.val_split &&
                    d.augment == e.augment &&
                    d.drop_last == e.drop_last;
  const auto& t = a.train;
  const auto& u = b.train;
  const bool train = t.epochs == u.epochs && t.batch_size == u.batch_size && t.lr == u.lr &&
                     t.momentum == u.momentum && t.nesterov == u.nesterov && t.weight_decay == u.weight_decay &&
                     t.milestone_fractions == u.milestone_fractions && t.milestones == u.milestones &&
                     t.lr_factor == u.lr_factor && t.eval_batch_size == u.eval_batch_size &&
                     t.checkpoint_every == u.checkpoint_every && t.log_every == u.log_every &&
                     t.device == u.device && t.amp == u.amp && t.channels_last == u.channels_last && t.cuda_graph == u.cuda_graph &&
                     t.deterministic == u.deterministic && t.threads == u.threads &&
                     t.batch_scope == u.batch_scope && t.bn_batch == u.bn_batch;
  const bool paper = a.paper.has_value() == b.paper.has_value() &&
                     (!a.paper || (a.paper->mean == b.paper->mean && a.paper->std == b.paper->std));
  return network && data && train && paper && a.search == b.search && a.name == b.name && a.seeds == b.seeds &&
         a.out == b.out;
}

constexpr const char* kFullConfig = R"({
  "name": "table2/preresnet-110-proportional-c100",
  "network": {"arch": "preresnet", "depth": 110, "variant": "proportional", "classes": 100, "in_channels": 3,
              "relu_drop": ["stage3.*.before_conv1"], "widen_factor": 1, "shortcut": "B", "shared_preactivation": false, "shortcut_keeps_relu": true,
              "bottleneck_stride": "first-1x1", "final_merge": "sum", "plain_indexing": "global",
              "conv_init": "fan-out", "bn_eps": 1e-5, "bn_momentum": 0.2},
  "data": {"dataset": "cifar100", "dir": "data/cifar-100-binary", "coarse_labels": false, "subset": 5000,
           "test_subset": 1000, "val_split": 500, "augment": false, "drop_last": true},
  "train": {"epochs": 300, "batch_size": 128, "lr": 0.05, "momentum": 0.8, "nesterov": false,
            "weight_decay": 5e-4, "milestone_fractions": [0.5, 0.75], "milestones": [150, 225], "lr_factor": 0.2,
            "eval_batch_size": 250, "checkpoint_every": 5, "log_every": 10, "device": "cuda:1", "amp": "bf16",
            "channels_last": true, "cuda_graph": true, "deterministic": true, "threads": 4,
            "batch_scope": "rank", "bn_batch": 32},
  "seeds": [0, 1, 2, 3, 4],
  "out": "results",
  "paper": {"mean": 72.19, "std": 0.31}
})";

TEST(ConfigTest, DefaultsAreThePapersProtocol) {  // spec §6
  const ExperimentConfig c = parse(R"({"network": {"arch": "preresnet", "depth": 110}})");
  EXPECT_EQ(c.train.epochs, 400);
  EXPECT_EQ(c.train.batch_size, 64);
  EXPECT_EQ(c.train.lr, 0.1);
  EXPECT_EQ(c.train.momentum, 0.9);
  EXPECT_TRUE(c.train.nesterov);
  EXPECT_EQ(c.train.weight_decay, 1e-4);
  EXPECT_THAT(c.train.milestone_fractions, ElementsAre(0.5, 0.75, 0.875));
  EXPECT_TRUE(c.train.milestones.empty());
  EXPECT_EQ(c.train.lr_factor, 0.1);
  EXPECT_FALSE(c.train.channels_last.has_value());  // "auto": chosen per device
  EXPECT_EQ(c.network.options.bn_eps, 2e-5);
  EXPECT_EQ(c.network.options.bn_momentum, 0.1);
  EXPECT_EQ(c.network.options.conv_init, ConvInit::kFanIn);
  EXPECT_EQ(c.network.mask.variant, "paired");
  EXPECT_EQ(c.network.num_classes, 10);
  EXPECT_EQ(c.network.in_channels, 3);
  EXPECT_EQ(c.data.dataset, data::DatasetKind::kCifar10);
  EXPECT_TRUE(c.data.augment);
  EXPECT_THAT(c.seeds, ElementsAre(0));
  EXPECT_EQ(c.out, "runs");
  EXPECT_FALSE(c.paper.has_value());
}

TEST(ConfigTest, FullConfigFillsEveryField) {
  const ExperimentConfig c = parse(kFullConfig);
  EXPECT_EQ(c.name, "table2/preresnet-110-proportional-c100");
  EXPECT_EQ(c.network.arch, "preresnet");
  EXPECT_EQ(c.network.depth, 110);
  EXPECT_EQ(c.network.mask.variant, "proportional");
  EXPECT_EQ(c.network.num_classes, 100);
  EXPECT_EQ(c.network.options.shortcut, Shortcut::kB);
  EXPECT_FALSE(c.network.options.shared_preactivation);
  EXPECT_TRUE(c.network.options.shortcut_keeps_relu);
  EXPECT_EQ(c.network.options.conv_init, ConvInit::kFanOut);
  EXPECT_EQ(c.network.options.bn_eps, 1e-5);
  EXPECT_EQ(c.network.options.bn_momentum, 0.2);
  EXPECT_EQ(c.data.dataset, data::DatasetKind::kCifar100);
  EXPECT_EQ(c.data.dir, "data/cifar-100-binary");
  EXPECT_EQ(c.data.subset, 5000);
  EXPECT_EQ(c.data.test_subset, 1000);
  EXPECT_FALSE(c.data.augment);
  EXPECT_TRUE(c.data.drop_last);
  EXPECT_EQ(c.train.epochs, 300);
  EXPECT_EQ(c.train.batch_size, 128);
  EXPECT_EQ(c.train.lr, 0.05);
  EXPECT_EQ(c.train.momentum, 0.8);
  EXPECT_FALSE(c.train.nesterov);
  EXPECT_EQ(c.train.weight_decay, 5e-4);
  EXPECT_THAT(c.train.milestone_fractions, ElementsAre(0.5, 0.75));
  EXPECT_THAT(c.train.milestones, ElementsAre(150, 225));
  EXPECT_EQ(c.train.lr_factor, 0.2);
  EXPECT_EQ(c.train.eval_batch_size, 250);
  EXPECT_EQ(c.train.checkpoint_every, 5);
  EXPECT_EQ(c.train.log_every, 10);
  EXPECT_EQ(c.train.device, std::optional<c10::Device>(c10::Device(c10::kCUDA, 1)));
  EXPECT_EQ(c.train.amp, Amp::kBf16);
  EXPECT_EQ(c.train.channels_last, std::optional<bool>(true));
  EXPECT_TRUE(c.train.cuda_graph);
  EXPECT_TRUE(c.train.deterministic);
  EXPECT_EQ(c.train.threads, 4);
  EXPECT_EQ(c.train.batch_scope, BatchScope::kRank);
  EXPECT_EQ(c.train.bn_batch, 32);
  EXPECT_THAT(c.seeds, ElementsAre(0, 1, 2, 3, 4));
  EXPECT_EQ(c.out, "results");
  ASSERT_TRUE(c.paper.has_value());
  EXPECT_EQ(c.paper->mean, 72.19);
  EXPECT_EQ(c.paper->std, 0.31);
}

// Each family's own switches: the full config above is a preresnet, which uses none of these.
TEST(ConfigTest, SwitchesAreReadOnTheFamiliesThatUseThem) {
  auto c = parse(R"({"network": {"arch": "preresnet-bottleneck", "depth": 164, "bottleneck_stride": "3x3"}})");
  EXPECT_EQ(c.network.options.bottleneck_stride, BottleneckStride::kConv3x3);
  c = parse(R"({"network": {"arch": "dfn-mr", "depth": 110, "final_merge": "double"}})");
  EXPECT_EQ(c.network.options.final_merge, FinalMerge::kDoubleMerge);
  c = parse(R"({"network": {"arch": "plain", "depth": 84, "plain_indexing": "per-stage"}})");
  EXPECT_EQ(c.network.options.plain_indexing, models::PlainIndexing::kPerStage);
  const std::string text = to_json(parse(R"({"network": {"arch": "preresnet-bottleneck", "depth": 164,
                                                          "bottleneck_stride": "3x3"}})"));
  EXPECT_THAT(text, HasSubstr("\"bottleneck_stride\": \"3x3\""));
}

// A switch the network does not use would change the run's identity (its config.json) without
// changing the network, so it is refused, as widen_factor on anything but dfn-mr is.
TEST(ConfigTest, SwitchesTheNetworkDoesNotUseAreRefused) {
  expect_error(R"({"network": {"arch": "preresnet", "depth": 110, "final_merge": "double"}})",
               "config t.json: network.final_merge: expected \"sum\" for \"preresnet\" (got \"double\"); it applies "
               "to dfn-mr only");
  expect_error(R"({"network": {"arch": "dfn-mr", "depth": 110, "plain_indexing": "per-stage"}})",
               "network.plain_indexing: expected \"global\" for \"dfn-mr\" (got \"per-stage\"); it applies to plain only");
  expect_error(R"({"network": {"arch": "preresnet", "depth": 110, "bottleneck_stride": "3x3"}})",
               "network.bottleneck_stride: expected \"first-1x1\" for \"preresnet\"");
  expect_error(R"({"network": {"arch": "preresnet-bottleneck", "depth": 110, "shortcut": "B"}})",
               "network.shortcut: expected \"A\" for \"preresnet-bottleneck\" (got \"B\"); it applies to preresnet only");
  expect_error(R"({"network": {"arch": "resnet", "depth": 20, "shared_preactivation": false}})",
               "network.shared_preactivation: expected true for \"resnet\" (got false); it applies to preresnet, "
               "preresnet-bottleneck only");
  // Defaults written out (as every config.json does) are fine, and the switches that apply everywhere too.
  EXPECT_NO_THROW(parse(R"({"network": {"arch": "plain", "depth": 38, "final_merge": "sum", "shortcut": "A",
                                        "conv_init": "fan-out", "bn_eps": 1e-5}})"));
}

TEST(ConfigTest, ClassesAndChannelsFollowTheDataSetUnlessGiven) {
  auto c = parse(R"({"network": {"arch": "plain", "depth": 38}, "data": {"dataset": "cifar100"}})");
  EXPECT_EQ(c.network.num_classes, 100);
  c = parse(R"({"network": {"arch": "plain", "depth": 38}, "data": {"dataset": "cifar100", "coarse_labels": true}})");
  EXPECT_EQ(c.network.num_classes, 20);
  c = parse(R"({"network": {"arch": "preresnet", "depth": 20}, "data": {"dataset": "fashion-mnist"}})");
  EXPECT_EQ(c.network.num_classes, 10);
  EXPECT_EQ(c.network.in_channels, 1);
  expect_error(R"({"network": {"arch": "plain", "depth": 38, "classes": 10}, "data": {"dataset": "cifar100"}})",
               "config t.json: network.classes: expected 100 for \"cifar100\" (got 10)");
  expect_error(R"({"network": {"arch": "plain", "depth": 38, "in_channels": 3}, "data": {"dataset": "fashion-mnist"}})",
               "config t.json: network.in_channels: expected 1 for \"fashion-mnist\" (got 3)");
}

TEST(ConfigTest, ExplicitMaskIsReadAndGivingBothIsAnError) {
  const auto c = parse(R"({"network": {"arch": "preresnet-bottleneck", "depth": 164, "relu_mask": "101"}})");
  EXPECT_EQ(c.network.mask, models::NetworkMask::bits("101"));
  expect_error(R"({"network": {"arch": "preresnet", "depth": 110, "variant": "paired", "relu_mask": "01"}})",
               "config t.json: network: give variant or relu_mask, not both");
}

TEST(ConfigTest, UnknownKeysSuggestTheClosestKey) {
  expect_error(with_train(R"("nesterof": true)"), "config t.json: train.nesterof: unknown key; did you mean \"nesterov\"?");
  expect_error(with_train(R"("batch-size": 32)"), "train.batch-size: unknown key; did you mean \"batch_size\"?");
  expect_error(with_train(R"("dataset": "cifar10")"), "train.dataset: unknown key; did you mean \"data.dataset\"?");
  expect_error(with_train(R"("banana": 1)"), "train.banana: unknown key; expected one of: epochs, batch_size, lr,");
  expect_error(R"({"network": {"arch": "preresnet", "depth": 110}, "seed": [1]})",
               "config t.json: seed: unknown key; did you mean \"seeds\"?");
  expect_error(R"({"network": {"arch": "preresnet", "depth": 110, "widen": 2}})",
               "network.widen: unknown key; did you mean \"widen_factor\"?");
}

TEST(ConfigTest, WrongTypesNameTheKeyAndTheValue) {
  expect_error(with_train(R"("lr": "0.1")"), "config t.json: train.lr: expected a number (got \"0.1\")");
  expect_error(with_train(R"("batch_scope": "node")"), "train.batch_scope");
  expect_error(with_train(R"("bn_batch": -1)"), "train.bn_batch");
  expect_error(with_train(R"("epochs": 10.5)"), "train.epochs: expected an integer (got 10.5)");
  expect_error(with_train(R"("nesterov": 1)"), "train.nesterov: expected true or false (got 1)");
  expect_error(with_train(R"("device": 0)"), "train.device: expected a string (got 0)");
  expect_error(with_train(R"("channels_last": "on")"), "train.channels_last: expected true, false or \"auto\" (got \"on\")");
  expect_error(with_train(R"("milestones": 200)"), "train.milestones: expected a list of integers (got 200)");
  expect_error(with_train(R"("milestones": [200, "300"])"), "train.milestones[1]: expected an integer (got \"300\")");
  expect_error(with_train(R"("epochs": 18446744073709551615)"), "train.epochs: expected a 64-bit integer");
  expect_error(R"({"network": {"arch": "preresnet", "depth": 110}, "train": []})",
               "config t.json: train: expected an object (got [])");
  expect_error("[1, 2]", "config t.json: expected a JSON object (got [1,2])");
  expect_error(R"({"network": {"arch": "preresnet", "depth": 110}, "seeds": 1.5})",
               "seeds: expected a list of integers or a string like \"0-4\" (got 1.5)");
}

TEST(ConfigTest, RequiredKeysAreReportedWhenMissing) {
  expect_error("{}", "config t.json: network: required key is missing");
  expect_error(R"({"network": {"depth": 110}})",
               "network.arch: required key is missing; expected one of: plain, resnet, preresnet");
  expect_error(R"({"network": {"arch": "plain"}})", "network.depth: required key is missing");
}

TEST(ConfigTest, InvalidJsonReportsTheParserPosition) {
  expect_error("{\n  \"network\": {\"arch\": \"plain\",}\n}", "config t.json: invalid JSON: parse error at line 2");
  expect_error("", "config t.json: invalid JSON:");
}

TEST(ConfigTest, OutOfRangeValuesSayWhatIsExpected) {
  expect_error(with_train(R"("lr": -0.1)"), "config t.json: train.lr: expected a number > 0 (got -0.1)");
  expect_error(with_train(R"("epochs": 0)"), "train.epochs: expected an integer >= 1 (got 0)");
  expect_error(with_train(R"("batch_size": -5)"), "train.batch_size: expected an integer >= 1 (got -5)");
  expect_error(with_train(R"("momentum": 1)"), "train.momentum: expected a number in [0, 1) (got 1)");
  expect_error(with_train(R"("weight_decay": -1e-4)"), "train.weight_decay: expected a number >= 0 (got -0.0001)");
  expect_error(with_train(R"("milestone_fractions": [0.5, 1.0])"),
               "train.milestone_fractions[1]: expected a fraction of the run in (0, 1) (got 1)");
  expect_error(with_train(R"("milestone_fractions": [0.75, 0.5])"),
               "train.milestone_fractions[1]: expected increasing fractions (got 0.5 after 0.75)");
  expect_error(with_train(R"("epochs": 100, "milestones": [50, 100])"),
               "train.milestones[1]: expected an epoch in [0, 100) = [0, train.epochs) (got 100)");
  expect_error(with_train(R"("milestones": [-1])"), "train.milestones[0]: expected an integer >= 0 (got -1)");
  expect_error(with_train(R"("lr_factor": 0)"), "train.lr_factor: expected a number in (0, 1] (got 0)");
  expect_error(with_train(R"("momentum": 0)"),
               "train.nesterov: expected false when train.momentum is 0 (got true); Nesterov needs momentum > 0");
  EXPECT_NO_THROW(parse(with_train(R"("momentum": 0, "nesterov": false)")));
  expect_error(with_train(R"("device": "gpu")"),
               "train.device: expected \"auto\", \"cpu\", \"cuda\" or \"cuda:N\" (got \"gpu\")");
  expect_error(with_train(R"("device": "cuda:x")"), "train.device: expected");
  EXPECT_NO_THROW(parse(with_train(R"("device": "cuda:0")")));
  expect_error(with_train(R"("amp": "fp32")"), "train.amp: expected one of \"off\", \"bf16\", \"fp16\" (got \"fp32\")");
  expect_error(with_train(R"("amp": "fp16", "device": "cpu")"),
               "train.amp: expected \"off\" or \"bf16\" on train.device \"cpu\" (got \"fp16\")");
  EXPECT_NO_THROW(parse(with_train(R"("amp": "bf16", "device": "cpu")")));
  expect_error(with_train(R"("threads": -1)"), "train.threads: expected an integer >= 0 (got -1)");
  expect_error(R"({"network": {"arch": "preresnet", "depth": 110}, "data": {"subset": -1}})",
               "data.subset: expected an integer >= 0 (got -1)");
  expect_error(R"({"network": {"arch": "preresnet", "depth": 110}, "data": {"dataset": "cifar"}})",
               "data.dataset: expected one of \"cifar10\", \"cifar100\", \"fashion-mnist\" (got \"cifar\"); "
               "did you mean \"cifar10\"?");
  expect_error(R"({"network": {"arch": "preresnet", "depth": 110}, "data": {"coarse_labels": true}})",
               "data.coarse_labels: expected false for \"cifar10\" (got true)");
  expect_error(R"({"network": {"arch": "preresnet", "depth": 110}, "seeds": [0, -1]})",
               "seeds[1]: expected a non-negative seed (got -1)");
  expect_error(R"({"network": {"arch": "preresnet", "depth": 110}, "seeds": [3, 3]})",
               "seeds[1]: expected unique seeds (got 3 twice)");
  expect_error(R"({"network": {"arch": "preresnet", "depth": 110}, "seeds": []})",
               "seeds: expected at least one seed (got [])");
  expect_error(R"({"network": {"arch": "preresnet", "depth": 110}, "name": "../x"})", "name: expected a relative folder");
  expect_error(R"({"network": {"arch": "preresnet", "depth": 110}, "paper": {"std": 1}})",
               "paper.mean: required key is missing");
}

TEST(ConfigTest, EnumStringsListTheirValues) {
  expect_error(R"({"network": {"arch": "preresnet", "depth": 110, "shortcut": "C"}})",
               "network.shortcut: expected one of \"A\", \"B\" (got \"C\")");
  expect_error(R"({"network": {"arch": "preresnet", "depth": 110, "conv_init": "fanin"}})",
               "network.conv_init: expected one of \"fan-in\", \"fan-out\" (got \"fanin\"); did you mean \"fan-in\"?");
  expect_error(R"({"network": {"arch": "dfn-mr", "depth": 110, "final_merge": "2m"}})",
               "network.final_merge: expected one of \"sum\", \"double\"");
}

TEST(ConfigTest, NetworkErrorsComeFromTheRegistryWithTheKeyPath) {
  expect_error(R"({"network": {"arch": "resnext", "depth": 29}})",
               "config t.json: network.arch: unknown network \"resnext\"; expected one of: plain, resnet");
  expect_error(R"({"network": {"arch": "preresnet", "depth": 111}})",
               "config t.json: network.depth: preresnet: depth must be 6n+2 (got 111)");
  expect_error(R"({"network": {"arch": "preresnet", "depth": 110, "variant": "type1"}})",
               "config t.json: network.variant: preresnet: unknown variant \"type1\"; expected one of: paired, proportional");
  expect_error(R"({"network": {"arch": "preresnet", "depth": 110, "relu_mask": "011"}})",
               "config t.json: network.relu_mask: preresnet: expected a relu_mask of 2 characters");
  expect_error(R"({"network": {"arch": "preresnet", "depth": 110, "widen_factor": 4}})",
               "network.widen_factor: expected 1 for \"preresnet\" (got 4); it applies to dfn-mr only");
  EXPECT_NO_THROW(parse(R"({"network": {"arch": "dfn-mr", "depth": 62, "widen_factor": 4}})"));
}

TEST(ConfigTest, ToJsonRoundTripsEveryField) {
  const ExperimentConfig full = parse(kFullConfig);
  const std::string text = to_json(full);
  EXPECT_TRUE(same(parse(text), full)) << text;
  EXPECT_THAT(text, HasSubstr("\n  \"network\": {\n    \"arch\": \"preresnet\",\n"));  // 2-space indent
  EXPECT_THAT(text, HasSubstr("\"milestones\": [150, 225]"));
  EXPECT_THAT(text, HasSubstr("\"shortcut\": \"B\""));

  const ExperimentConfig minimal = parse(R"({"network": {"arch": "dfn-mr", "depth": 110, "relu_mask": "0111"}})");
  const std::string minimal_text = to_json(minimal);
  EXPECT_TRUE(same(parse(minimal_text), minimal)) << minimal_text;
  EXPECT_THAT(minimal_text, HasSubstr("\"paper\": null"));
  EXPECT_THAT(minimal_text, HasSubstr("\"relu_mask\": \"0111\""));
  EXPECT_THAT(minimal_text, Not(HasSubstr("\"variant\"")));
  EXPECT_THAT(minimal_text, HasSubstr("\"weight_decay\": 0.0001"));
  EXPECT_THAT(minimal_text, HasSubstr("\"channels_last\": \"auto\""));
}

TEST(ConfigTest, RunFolderConfigWithItsEnvironmentParses) {  // propnet train's config.json, reused as --config
  const ExperimentConfig config = parse(R"({"network": {"arch": "preresnet", "depth": 20},
      "environment": {"propnet": "0.1.0", "libtorch": "1.13.0", "cuda": false, "git_sha": "abc"}})");
  EXPECT_EQ(config.network.depth, 20);
  EXPECT_THAT(to_json(config), Not(HasSubstr("environment")));
}

TEST(ConfigTest, ToJsonWritesEveryKey) {
  const std::string text = to_json(
      parse(R"({"network": {"arch": "preresnet", "depth": 110}, "paper": {"mean": 1}, "search": {"keep": 3}})"));
  for (const ConfigKey& key : config_keys()) {
    if (key.path == "network.relu_mask") continue;  // written in place of the variant, when one is given
    const std::string leaf = key.path.substr(key.path.rfind('.') == std::string::npos ? 0 : key.path.rfind('.') + 1);
    EXPECT_THAT(text, HasSubstr("\"" + leaf + "\": ")) << key.path;
  }
  EXPECT_GE(config_keys().size(), 49u);  // every key the config had before the schema became a table
}

// The search section is written only when it says something, and read back as written.
TEST(ConfigTest, SearchSectionRoundTripsAndIsLeftOutAtItsDefaults) {
  const ExperimentConfig plain = parse(R"({"network": {"arch": "plain", "depth": 8}})");
  EXPECT_THAT(to_json(plain), Not(HasSubstr("\"search\"")));  // a train run's config.json stays as it was
  const ExperimentConfig searched = parse(R"({"network": {"arch": "plain", "depth": 8},
      "search": {"method": "exhaustive", "keep": 3, "seeds": "0-2", "max": 30}})");
  EXPECT_EQ(searched.search.method, SearchMethod::kExhaustive);
  EXPECT_EQ(searched.search.seeds, (std::vector<int64_t>{0, 1, 2}));
  EXPECT_TRUE(same(parse_config(to_json(searched), "again"), searched));
  ExperimentConfig flagged = plain;
  apply_flag(flagged, "method", "random");
  apply_flag(flagged, "keep-fraction", "0.5");
  apply_flag(flagged, "search-seeds", "3");
  EXPECT_EQ(flagged.search.method, SearchMethod::kRandom);
  EXPECT_EQ(flagged.search.keep_fraction, 0.5);
  EXPECT_EQ(flagged.search.seeds, std::vector<int64_t>{3});
  // Search seeds may change between invocations, like train seeds; the budget may not.
  ExperimentConfig other = flagged;
  other.search.seeds = {0, 1};
  EXPECT_FALSE(first_result_difference(flagged, other).has_value());
  other.search.keep_fraction = 0.25;
  EXPECT_EQ(first_result_difference(flagged, other)->path, "search.keep_fraction");
}

TEST(ConfigTest, SearchRulesNameTheirKeys) {
  expect_error(R"({"network": {"arch": "plain", "depth": 8}, "search": {"keep": 3, "keep_fraction": 0.5}})",
               "search.keep: give one budget: search.keep, search.keep_fraction or search.relu_budget (got 2)");
  expect_error(R"({"network": {"arch": "plain", "depth": 8}, "search": {"method": "random", "relu_budget": 9000}})",
               "search.relu_budget: expected 0 with search.method \"random\"");
  expect_error(R"({"network": {"arch": "plain", "depth": 8}, "search": {"warmup_fraction": 0.5, "freeze_fraction": 0.5}})",
               "search.freeze_fraction: expected search.warmup_fraction + search.freeze_fraction < 1 (got 0.5 + 0.5)");
  expect_error(R"({"network": {"arch": "plain", "depth": 8}, "search": {"method": "evolve"}})",
               "search.method: expected one of \"gates\", \"greedy\", \"random\", \"exhaustive\" (got \"evolve\")");
}

// A library caller hands the trainer a TrainSpec without a config file: the same checks apply.
TEST(ConfigTest, TrainSpecsFromLibraryCallersAreValidated) {
  TrainSpec spec;
  EXPECT_NO_THROW(validate(spec));
  spec.lr = -1;
  EXPECT_THAT([&] { validate(spec); },
              ThrowsMessage<c10::ValueError>(HasSubstr("TrainSpec: train.lr: expected a number > 0 (got -1)")));
  spec = TrainSpec{};
  spec.amp = static_cast<Amp>(7);  // what `amp = "bf17"` became in the old string API
  EXPECT_THAT([&] { validate(spec); }, ThrowsMessage<c10::ValueError>(HasSubstr("train.amp")));
  spec = TrainSpec{};
  spec.batch_scope = static_cast<BatchScope>(5);
  EXPECT_THAT([&] { validate(spec); }, ThrowsMessage<c10::ValueError>(HasSubstr("train.batch_scope")));
  spec = TrainSpec{};
  spec.device = c10::Device(c10::kMeta);
  EXPECT_THAT([&] { validate(spec); },
              ThrowsMessage<c10::ValueError>(HasSubstr("train.device: expected \"auto\", \"cpu\", \"cuda\" or \"cuda:N\" (got \"meta\")")));
  spec = TrainSpec{};
  spec.epochs = 10;
  spec.milestones = {12};
  EXPECT_THAT([&] { validate(spec); },
              ThrowsMessage<c10::ValueError>(HasSubstr("TrainSpec: train.milestones[0]: expected an epoch in [0, 10)")));
  spec = TrainSpec{};
  spec.device = c10::Device(c10::kCPU);
  spec.amp = Amp::kFp16;
  EXPECT_THAT([&] { validate(spec); },
              ThrowsMessage<c10::ValueError>(HasSubstr("train.amp: expected \"off\" or \"bf16\" on train.device \"cpu\" "
                                                       "(got \"fp16\"); fp16 autocast needs a CUDA device")));
  spec.amp = Amp::kBf16;  // bf16 autocasts on the CPU too
  EXPECT_NO_THROW(validate(spec));
}

TEST(ConfigTest, ChoicesAreSpelledFromOneTable) {
  EXPECT_EQ(to_string(Amp::kBf16), "bf16");
  EXPECT_EQ(from_string<Amp>("fp16"), std::optional<Amp>(Amp::kFp16));
  EXPECT_FALSE(from_string<Amp>("bf17").has_value());
  EXPECT_EQ(spelling_list<data::DatasetKind>(), (std::vector<std::string>{"cifar10", "cifar100", "fashion-mnist"}));
  EXPECT_EQ(data::dataset_names(), spelling_list<data::DatasetKind>());
  EXPECT_EQ(to_string(BottleneckStride::kConv3x3), "3x3");
  EXPECT_THAT([] { to_string(static_cast<Amp>(9)); }, ThrowsMessage<c10::ValueError>(HasSubstr("got the integer 9")));
}

TEST(ConfigTest, RunNameIsDerivedUnlessGiven) {
  ExperimentConfig c = parse(R"({"network": {"arch": "preresnet", "depth": 110, "variant": "proportional"},
                                 "data": {"dataset": "cifar100"}})");
  EXPECT_EQ(run_name(c), "preresnet-110-proportional-cifar100");
  c.network.mask = models::NetworkMask::bits("11");
  EXPECT_EQ(run_name(c), "preresnet-110-11-cifar100");
  c.name = "table2/x";
  EXPECT_EQ(run_name(c), "table2/x");
}

}  // namespace
}  // namespace propnet
