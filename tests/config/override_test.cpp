// --set overrides, seed lists and config files.
#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <c10/util/Exception.h>

#include <propnet/config.h>
#include <propnet/models/network_mask.h>
#include "support.h"
#include "config/config_support.h"

namespace propnet {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;
using test::parse;
using test::with_train;
using test::expect_error;

TEST(ConfigTest, OverridesParseNumbersBooleansListsAndStrings) {
  ExperimentConfig c = parse(R"({"network": {"arch": "preresnet", "depth": 110}})");
  apply_override(c, "train.lr=0.05");
  EXPECT_EQ(c.train.lr, 0.05);
  apply_override(c, "train.epochs=10");
  EXPECT_EQ(c.train.epochs, 10);
  apply_override(c, "train.nesterov=false");
  EXPECT_FALSE(c.train.nesterov);
  apply_override(c, "train.milestones=[5, 8]");
  EXPECT_THAT(c.train.milestones, ElementsAre(5, 8));
  apply_override(c, "train.device=cuda:1");
  EXPECT_EQ(c.train.device, std::optional<c10::Device>(c10::Device(c10::kCUDA, 1)));
  apply_override(c, "name=2024");  // a string key keeps number-like text as a string
  EXPECT_EQ(c.name, "2024");
  apply_override(c, "seeds=0-2");
  EXPECT_THAT(c.seeds, ElementsAre(0, 1, 2));
  apply_override(c, "seeds=[4, 7]");
  EXPECT_THAT(c.seeds, ElementsAre(4, 7));
  apply_override(c, "paper.mean=64.25");
  ASSERT_TRUE(c.paper.has_value());
  EXPECT_EQ(c.paper->mean, 64.25);
  apply_override(c, "paper=null");
  EXPECT_FALSE(c.paper.has_value());
  apply_override(c, "network.shortcut=B");
  EXPECT_EQ(c.network.options.shortcut, Shortcut::kB);
  apply_override(c, "train.channels_last=false");
  EXPECT_EQ(c.train.channels_last, std::optional<bool>(false));
  apply_override(c, "train.channels_last=auto");
  EXPECT_FALSE(c.train.channels_last.has_value());
}

TEST(OverrideTest, DataSetChangeCarriesTheClassCountAlong) {
  ExperimentConfig c = parse(R"({"network": {"arch": "preresnet", "depth": 110}})");
  apply_override(c, "data.dataset=cifar100");
  EXPECT_EQ(c.data.dataset, data::DatasetKind::kCifar100);
  EXPECT_EQ(c.network.num_classes, 100);
  EXPECT_NO_THROW(validate(c, "flags"));
  apply_override(c, "data.dataset=fashion-mnist");
  EXPECT_EQ(c.network.num_classes, 10);
  EXPECT_EQ(c.network.in_channels, 1);
  EXPECT_NO_THROW(validate(c, "flags"));
}

TEST(OverrideTest, VariantAndMaskReplaceEachOther) {
  ExperimentConfig c = parse(R"({"network": {"arch": "preresnet-bottleneck", "depth": 164, "variant": "type1"}})");
  apply_override(c, "network.relu_mask=101");
  EXPECT_EQ(c.network.mask.keep, ReluMask::parse("101"));
  EXPECT_EQ(c.network.mask.variant, "paired");
  apply_override(c, "network.variant=type3");
  EXPECT_EQ(c.network.mask.variant, "type3");
  EXPECT_FALSE(c.network.mask.keep.has_value());
}

TEST(OverrideTest, MaskFileAndSelectorsSetAndResolve) {
  ExperimentConfig c = parse(R"({"network": {"arch": "preresnet", "depth": 14, "relu_mask": "01"}})");
  apply_override(c, "network.relu_drop=stage3.*");  // one string is a list of one
  EXPECT_EQ(c.network.mask.drop, std::vector<std::string>{"stage3.*"});
  apply_flag(c, "relu-drop", R"(["stage3.*", "stage1.0.*"])");  // the CLI passes every --relu-drop as one list
  EXPECT_EQ(c.network.mask.drop.size(), 2u);
  EXPECT_NO_THROW(validate(c, "flags"));
  const models::NetworkSpec resolved = models::with_resolved_mask(c.network);
  EXPECT_EQ(models::mask_text(resolved), "00.01.01.01.00.00");
  c.network = resolved;  // config.json's form reads back to the same network mask
  const ExperimentConfig reread = parse_config(to_json(c), "config.json");
  EXPECT_EQ(models::resolve_network_mask(reread.network), models::resolve_network_mask(resolved));
  EXPECT_FALSE(first_result_difference(c, reread).has_value());

  // A file replaces the mask and the variant, and is read as it is set: a missing one fails there.
  EXPECT_THAT([&] { apply_override(c, "network.relu_mask_file=none.txt"); }, ThrowsMessage<c10::ValueError>(HasSubstr(
      "network.relu_mask_file: relu_mask_file \"none.txt\": cannot open")));
  EXPECT_EQ(c.relu_mask_file, "");  // a failed assignment leaves the config as it was
  EXPECT_EQ(c.network.mask, resolved.mask);
  apply_override(c, "network.variant=proportional");
  EXPECT_EQ(c.relu_mask_file, "");
  apply_override(c, "network.relu_drop=[\"stage4.*\"]");
  EXPECT_THAT([&] { validate(c, "flags"); }, ThrowsMessage<c10::ValueError>(HasSubstr(
      "flags: network.relu_drop: relu_drop \"stage4.*\" matches no site of preresnet-14")));
}

TEST(OverrideTest, ValidationSplitLeavesImagesToTrainOn) {
  ExperimentConfig c = parse(R"({"network": {"arch": "preresnet", "depth": 14}, "data": {"subset": 500}})");
  apply_flag(c, "val-split", "100");
  EXPECT_EQ(c.data.val_split, 100);
  EXPECT_NO_THROW(validate(c, "flags"));
  apply_flag(c, "val-split", "500");
  EXPECT_THAT([&] { validate(c, "flags"); }, ThrowsMessage<c10::ValueError>(HasSubstr(
      "data.val_split: expected fewer than data.subset's 500 images (got 500)")));
}

TEST(OverrideTest, BadPathsAndValuesAreReportedAsSet) {
  ExperimentConfig c = parse(R"({"network": {"arch": "preresnet", "depth": 110}})");
  EXPECT_THAT([&] { apply_override(c, "train.nesterof=true"); },
              ThrowsMessage<c10::ValueError>(HasSubstr("config --set: train.nesterof: unknown key; did you mean \"nesterov\"?")));
  EXPECT_THAT([&] { apply_override(c, "trian.lr=0.1"); },
              ThrowsMessage<c10::ValueError>(HasSubstr("config --set: trian: unknown key; did you mean \"train\"?")));
  EXPECT_THAT([&] { apply_override(c, "train.lr.x=0.1"); },
              ThrowsMessage<c10::ValueError>(HasSubstr("config --set: train.lr.x: unknown key")));
  EXPECT_THAT([&] { apply_override(c, "train.lr"); },
              ThrowsMessage<c10::ValueError>(HasSubstr("config --set: expected key.path=value")));
  EXPECT_THAT([&] { apply_override(c, "train.lr=fast"); },
              ThrowsMessage<c10::ValueError>(HasSubstr("config --set: train.lr: expected a number (got \"fast\")")));
  EXPECT_THAT([&] { apply_override(c, "train.lr=-1"); },
              ThrowsMessage<c10::ValueError>(HasSubstr("config --set: train.lr: expected a number > 0 (got -1)")));
  EXPECT_THAT([&] { apply_override(c, "seeds=1-0"); },
              ThrowsMessage<c10::ValueError>(HasSubstr("config --set: seeds: expected an ascending range (got \"1-0\")")));
  EXPECT_EQ(c.train.lr, 0.1);  // a failed override leaves the config as it was
}

TEST(OverrideTest, CrossKeyRulesWaitForValidate) {
  // Order-independent: shrinking epochs before the milestones is fine until validate() runs.
  ExperimentConfig c = parse(with_train(R"("milestones": [200, 300])"));
  apply_override(c, "train.epochs=10");
  apply_override(c, "train.milestones=[5]");
  EXPECT_NO_THROW(validate(c, "flags"));
  apply_override(c, "train.epochs=4");
  EXPECT_THAT([&] { validate(c, "flags"); },
              ThrowsMessage<c10::ValueError>(HasSubstr("config flags: train.milestones[0]: expected an epoch in [0, 4)")));
}

TEST(SeedListTest, ParsesRangesListsAndMixes) {
  EXPECT_THAT(parse_seed_list("0-4"), ElementsAre(0, 1, 2, 3, 4));
  EXPECT_THAT(parse_seed_list("0,2,5"), ElementsAre(0, 2, 5));
  EXPECT_THAT(parse_seed_list("0-2,7"), ElementsAre(0, 1, 2, 7));
  EXPECT_THAT(parse_seed_list(" 3 , 1 "), ElementsAre(3, 1));
  EXPECT_THAT(parse_seed_list("9"), ElementsAre(9));
}

TEST(SeedListTest, RejectsBadListsWithTheOffendingPart) {
  const auto throws = [](const std::string& text, const std::string& message) {
    EXPECT_THAT([&] { parse_seed_list(text); }, ThrowsMessage<c10::ValueError>(HasSubstr(message))) << text;
  };
  throws("", "seeds: expected seeds like \"0-4\", \"0,2,5\" or \"0-2,7\" (got \"\")");
  throws("-1", "seeds: expected non-negative seeds (got \"-1\")");
  throws("4-0", "seeds: expected an ascending range (got \"4-0\")");
  throws("0-2,1", "seeds: expected unique seeds, 1 appears twice (got \"1\" in \"0-2,1\")");
  throws("0,,2", "(got \"\" in \"0,,2\")");
  throws("a-b", "seeds: expected seeds like");
  throws("1.5", "seeds: expected seeds like");
  throws("0-100000000", "seeds: expected at most 10000 seeds");
  EXPECT_THAT([] { parse(R"({"network": {"arch": "preresnet", "depth": 110}, "seeds": "2-1"})"); },
              ThrowsMessage<c10::ValueError>(HasSubstr("config t.json: seeds: expected an ascending range")));
  EXPECT_THAT(parse(R"({"network": {"arch": "preresnet", "depth": 110}, "seeds": "0-2,7"})").seeds,
              ElementsAre(0, 1, 2, 7));
}

TEST(LoadConfigTest, ReadsAFileAndNamesItInErrors) {
  const auto dir = test::scratch_dir("config-load");
  const std::string good = (dir / "good.json").string();
  std::ofstream(good) << R"({"network": {"arch": "plain", "depth": 38, "variant": "proportional"},
                             "data": {"dataset": "cifar100"}, "seeds": "0-4"})";
  const ExperimentConfig c = load_config(good);
  EXPECT_EQ(c.network.arch, "plain");
  EXPECT_EQ(c.network.num_classes, 100);
  EXPECT_THAT(c.seeds, ElementsAre(0, 1, 2, 3, 4));

  const std::string bad = (dir / "bad.json").string();
  std::ofstream(bad) << with_train(R"("lr": -0.1)");
  EXPECT_THAT([&] { load_config(bad); },
              ThrowsMessage<c10::ValueError>(HasSubstr("config " + bad + ": train.lr: expected a number > 0 (got -0.1)")));

  const std::string missing = (dir / "missing.json").string();
  EXPECT_THAT([&] { load_config(missing); },
              ThrowsMessage<c10::ValueError>(
                  HasSubstr("config \"" + missing + "\": cannot open: No such file or directory")));
  EXPECT_THAT([&] { load_config(dir.string()); },
              ThrowsMessage<c10::ValueError>(HasSubstr("cannot open: Is a directory")));
}

TEST(LoadConfigTest, ShippedExamplesParse) {
  for (const char* name : {"fashion-mnist-preresnet-20.json", "table1-plain-38-proportional-c100.json",
                           "table2-preresnet-110-proportional-c100.json"}) {
    const auto root = std::filesystem::path(__FILE__).parent_path().parent_path().parent_path();  // tests/config/
    const std::string path = (root / "configs" / "examples" / name).string();
    EXPECT_NO_THROW(load_config(path)) << path;
  }
}

}  // namespace
}  // namespace propnet
