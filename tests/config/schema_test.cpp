// The schema table against its documentation and its uses: configs/README.md documents exactly the
// schema's keys with their defaults, every key is written, and flags map onto keys.
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <c10/util/Exception.h>

#include <propnet/choices.h>
#include <propnet/config.h>

namespace propnet {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

// The ```jsonc block under "## Every key" in configs/README.md, comments removed.
struct DocumentedKeys {
  std::string block;                          // the raw block, comments included
  std::map<std::string, nlohmann::json> keys;  // path -> documented value (objects: the object)
  std::vector<std::string> order;
};

void collect(const nlohmann::ordered_json& object, const std::string& prefix, DocumentedKeys& out) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    const std::string path = prefix.empty() ? it.key() : prefix + "." + it.key();
    out.keys[path] = nlohmann::json::parse(it.value().dump());
    out.order.push_back(path);
    if (it.value().is_object()) collect(it.value(), path, out);
  }
}

DocumentedKeys documented_keys() {
  const auto readme = std::filesystem::path(PROPNET_SOURCE_DIR) / "configs" / "README.md";
  std::ifstream in(readme);
  EXPECT_TRUE(in.good()) << readme;
  std::stringstream text;
  text << in.rdbuf();
  const std::string all = text.str();
  const auto heading = all.find("## Every key");
  const auto begin = all.find("```jsonc\n", heading);
  const auto end = all.find("```\n", begin + 9);
  EXPECT_NE(heading, std::string::npos);
  DocumentedKeys out;
  out.block = all.substr(begin + 9, end - begin - 9);
  std::string json;
  std::istringstream lines(out.block);
  for (std::string line; std::getline(lines, line);) {
    bool in_string = false;  // a "//" inside a string value is not a comment
    for (size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '"' && (i == 0 || line[i - 1] != '\\')) in_string = !in_string;
      if (!in_string && line.compare(i, 2, "//") == 0) {
        line.resize(i);
        break;
      }
    }
    json += line + "\n";
  }
  collect(nlohmann::ordered_json::parse(json), "", out);
  return out;
}

TEST(ConfigDocsTest, ReadmeDocumentsEveryKeyOfTheSchemaAndNoOther) {
  const DocumentedKeys docs = documented_keys();
  std::vector<std::string> schema_order;
  for (const ConfigKey& key : config_keys()) {
    const bool in_null_object = key.path.rfind("paper.", 0) == 0;  // documented in the "paper" comment
    if (in_null_object) {
      EXPECT_THAT(docs.block, HasSubstr("\"" + key.path.substr(6) + "\":")) << key.path << " is not documented";
      continue;
    }
    schema_order.push_back(key.path);
    EXPECT_TRUE(docs.keys.count(key.path)) << key.path << " is in the schema but not in configs/README.md";
  }
  for (const auto& path : docs.order) {
    const bool known = std::any_of(config_keys().begin(), config_keys().end(),
                                   [&](const ConfigKey& k) { return k.path == path; });
    EXPECT_TRUE(known) << path << " is documented in configs/README.md but is no key of the schema";
  }
  EXPECT_EQ(docs.order, schema_order) << "configs/README.md lists the keys in another order than the schema";
}

TEST(ConfigDocsTest, ReadmeShowsEveryDefault) {
  const DocumentedKeys docs = documented_keys();
  for (const ConfigKey& key : config_keys()) {
    if (key.default_json.empty() || !docs.keys.count(key.path)) continue;  // required keys show an example
    EXPECT_EQ(docs.keys.at(key.path), nlohmann::json::parse(key.default_json)) << key.path;
  }
}

TEST(ConfigSchemaTest, EveryKeyIsWrittenInSchemaOrder) {
  ExperimentConfig config = parse_config(
      R"({"network": {"arch": "preresnet", "depth": 110}, "paper": {"mean": 1}, "search": {"keep": 3}})", "t");
  const auto json = nlohmann::ordered_json::parse(to_json(config));
  std::vector<std::string> written;
  std::function<void(const nlohmann::ordered_json&, const std::string&)> walk = [&](const auto& object, const auto& prefix) {
    for (auto it = object.begin(); it != object.end(); ++it) {
      const std::string path = prefix.empty() ? it.key() : prefix + "." + it.key();
      written.push_back(path);
      if (it.value().is_object()) walk(it.value(), path);
    }
  };
  walk(json, "");
  std::vector<std::string> expected;
  for (const ConfigKey& key : config_keys()) {
    if (key.path != "network.relu_mask") expected.push_back(key.path);  // written instead of variant when set
  }
  EXPECT_EQ(written, expected);
}

TEST(ConfigSchemaTest, EveryKeyHasTypeDocAndAFlagThatSetsIt) {
  for (const ConfigKey& key : config_keys()) {
    EXPECT_FALSE(to_string(key.type).empty()) << key.path;
    EXPECT_FALSE(key.doc.empty()) << key.path;
    if (key.flag.name.empty() || !key.flag.takes_value) continue;
    EXPECT_FALSE(key.flag.help.empty()) << key.path;
  }
  ExperimentConfig c = parse_config(R"({"network": {"arch": "dfn-mr", "depth": 110}})", "t");
  apply_flag(c, "lr", "0.05");
  EXPECT_EQ(c.train.lr, 0.05);
  apply_flag(c, "final-merge", "double");
  EXPECT_EQ(c.network.options.final_merge, FinalMerge::kDoubleMerge);
  apply_flag(c, "no-augment", "");
  EXPECT_FALSE(c.data.augment);
  apply_flag(c, "channels-last", "off");
  EXPECT_EQ(c.train.channels_last, std::optional<bool>(false));
  apply_flag(c, "device", "cuda:1");
  EXPECT_EQ(c.train.device, std::optional<c10::Device>(c10::Device(c10::kCUDA, 1)));
  apply_flag(c, "dataset", "cifar100");  // the class count follows, as with --set
  EXPECT_EQ(c.network.num_classes, 100);
  apply_flag(c, "seeds", "0-2");
  EXPECT_EQ(c.seeds, (std::vector<int64_t>{0, 1, 2}));
  EXPECT_THAT([&] { apply_flag(c, "epochs", "0"); },
              ThrowsMessage<c10::ValueError>(HasSubstr("--epochs: expected an integer >= 1 (got 0)")));
  EXPECT_THAT([&] { apply_flag(c, "epochs", "ten"); },
              ThrowsMessage<c10::ValueError>(HasSubstr("--epochs: expected an integer (got \"ten\")")));
  EXPECT_THAT([&] { apply_flag(c, "amp", "bf17"); },
              ThrowsMessage<c10::ValueError>(HasSubstr("--amp: expected off, bf16 or fp16 (got \"bf17\"); did you mean \"bf16\"?")));
  EXPECT_THAT([&] { apply_flag(c, "channels-last", "maybe"); },
              ThrowsMessage<c10::ValueError>(HasSubstr("--channels-last: expected on, off or auto, as --channels-last=off")));
  EXPECT_EQ(c.train.epochs, 400);  // a failed flag leaves the config as it was
}

TEST(ConfigSchemaTest, RunFolderComparisonSkipsKeysThatDoNotChangeResults) {
  const ExperimentConfig a = parse_config(R"({"network": {"arch": "preresnet", "depth": 20}})", "t");
  ExperimentConfig b = a;
  b.train.device = c10::Device(c10::kCPU);
  b.train.threads = 3;
  b.train.log_every = 7;
  b.train.checkpoint_every = 2;
  b.seeds = {4, 5};
  b.out = "elsewhere";
  b.data.dir = "/data";
  b.paper = PaperResult{70, 1};
  EXPECT_FALSE(first_result_difference(a, b).has_value());
  b.train.bn_batch = 32;
  const auto difference = first_result_difference(a, b);
  ASSERT_TRUE(difference.has_value());
  EXPECT_EQ(difference->path, "train.bn_batch");
  EXPECT_EQ(difference->before, "0");
  EXPECT_EQ(difference->now, "32");
  b = a;
  b.network.mask = models::NetworkMask::bits("01");
  EXPECT_EQ(first_result_difference(a, b)->path, "network.variant");
  b = a;  // a run started in fp32 and resumed in bf16 is another experiment
  b.train.amp = Amp::kBf16;
  ASSERT_TRUE(first_result_difference(a, b).has_value());
  EXPECT_EQ(first_result_difference(a, b)->path, "train.amp");
  EXPECT_EQ(first_result_difference(a, b)->now, "\"bf16\"");
}

}  // namespace
}  // namespace propnet
