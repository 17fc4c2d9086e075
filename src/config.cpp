#include <propnet/config.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <utility>

#include <c10/util/Exception.h>
#include <c10/util/StringUtil.h>
#include <nlohmann/json.hpp>

#include <propnet/models/registry.h>

namespace propnet {
namespace {

// ordered_json keeps keys in file order, so errors name the first bad key and to_json follows the schema.
using Json = nlohmann::ordered_json;

constexpr size_t kMaxShownChars = 60;     // longer values are cut in error messages
constexpr int64_t kMaxSeeds = 10000;      // a seed list is a handful of runs, not a range typo like 0-1000000

// ---------------------------------------------------------------------------------------------------------------
// The schema: every object's keys, in the order to_json writes them.

enum class Kind { kObject, kString, kInteger, kNumber, kBool, kNumberList, kIntegerList, kSeeds, kOptionalObject };

struct Key {
  const char* name;
  Kind kind;
};

const std::map<std::string, std::vector<Key>>& schema() {
  static const std::map<std::string, std::vector<Key>> objects{
      {"",
       {{"name", Kind::kString},
        {"network", Kind::kObject},
        {"data", Kind::kObject},
        {"train", Kind::kObject},
        {"seeds", Kind::kSeeds},
        {"out", Kind::kString},
        {"paper", Kind::kOptionalObject},
        // Written by `propnet train` into a run's config.json (versions, git SHA); read back and ignored.
        {"environment", Kind::kOptionalObject}}},
      {"network",
       {{"arch", Kind::kString},
        {"depth", Kind::kInteger},
        {"variant", Kind::kString},
        {"relu_mask", Kind::kString},
        {"classes", Kind::kInteger},
        {"in_channels", Kind::kInteger},
        {"widen_factor", Kind::kInteger},
        {"shortcut", Kind::kString},
        {"shared_preactivation", Kind::kBool},
        {"shortcut_keeps_relu", Kind::kBool},
        {"bottleneck_stride", Kind::kString},
        {"final_merge", Kind::kString},
        {"plain_indexing", Kind::kString},
        {"conv_init", Kind::kString},
        {"bn_eps", Kind::kNumber},
        {"bn_momentum", Kind::kNumber}}},
      {"data",
       {{"dataset", Kind::kString},
        {"dir", Kind::kString},
        {"coarse_labels", Kind::kBool},
        {"subset", Kind::kInteger},
        {"test_subset", Kind::kInteger},
        {"augment", Kind::kBool},
        {"drop_last", Kind::kBool}}},
      {"train",
       {{"epochs", Kind::kInteger},
        {"batch_size", Kind::kInteger},
        {"lr", Kind::kNumber},
        {"momentum", Kind::kNumber},
        {"nesterov", Kind::kBool},
        {"weight_decay", Kind::kNumber},
        {"milestone_fractions", Kind::kNumberList},
        {"milestones", Kind::kIntegerList},
        {"lr_factor", Kind::kNumber},
        {"eval_batch_size", Kind::kInteger},
        {"checkpoint_every", Kind::kInteger},
        {"log_every", Kind::kInteger},
        {"device", Kind::kString},
        {"amp", Kind::kString},
        {"channels_last", Kind::kBool},  // or "auto" (Reader reads it as std::optional<bool>)
        {"cuda_graph", Kind::kBool},
        {"deterministic", Kind::kBool},
        {"threads", Kind::kInteger},
        {"batch_scope", Kind::kString},
        {"bn_batch", Kind::kInteger}}},
      {"paper", {{"mean", Kind::kNumber}, {"std", Kind::kNumber}}},
  };
  return objects;
}

// Splits on every `separator`, keeping empty parts ("a,,b" -> {"a", "", "b"}).
std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts{""};
  for (const char c : text) {
    if (c == separator) {
      parts.emplace_back();
    } else {
      parts.back() += c;
    }
  }
  return parts;
}

std::string join_path(const std::string& object, const std::string& key) {
  return object.empty() ? key : object + "." + key;
}

// ---------------------------------------------------------------------------------------------------------------
// Messages: `config <source>: <key.path>: expected <what> (got <actual>)[; <fix>]` (style guide §8.5).

template <typename... Args>
[[noreturn]] void fail(const std::string& source, const std::string& path, const Args&... args) {
  TORCH_CHECK_VALUE(false, "config ", source, ": ", path, ": ", args...);
}

std::string shown(const Json& value) {
  std::string text = value.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (text.size() > kMaxShownChars) text = text.substr(0, kMaxShownChars - 3) + "...";
  return text;
}

std::string quoted(const std::string& text) { return shown(Json(text)); }

// Paths are never cut: a user must be able to find the file.
std::string quoted_path(const std::string& path) { return "\"" + path + "\""; }

// Shortest text that reads back as the same double (nlohmann prints round-trip digits).
std::string number(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  std::string text = Json(value).dump();
  if (text.size() > 2 && text.compare(text.size() - 2, 2, ".0") == 0) text.resize(text.size() - 2);  // 1, not 1.0
  return text;
}

std::string quoted_list(const std::vector<std::string>& names) {
  std::vector<std::string> items;
  for (const auto& name : names) items.push_back(quoted(name));
  return c10::Join(", ", items);
}

std::string normalized(const std::string& text) {
  std::string out = text;
  for (char& c : out) c = c == '-' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

size_t levenshtein(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// The candidate within typo distance of `text` (ignoring case and '-' vs '_') or starting with it,
// or "" when none is close.
std::string closest(const std::string& text, const std::vector<std::string>& candidates) {
  const std::string key = normalized(text);
  if (key.size() >= 4) {
    for (const auto& candidate : candidates) {
      if (normalized(candidate).rfind(key, 0) == 0) return candidate;
    }
  }
  const size_t allowed = key.size() <= 4 ? 1 : key.size() <= 8 ? 2 : 3;
  std::string best;
  size_t best_distance = allowed + 1;
  for (const auto& candidate : candidates) {
    const size_t distance = levenshtein(key, normalized(candidate));
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

std::vector<std::string> key_names(const std::string& object) {
  std::vector<std::string> names;
  for (const Key& key : schema().at(object)) names.push_back(key.name);
  return names;
}

[[noreturn]] void unknown_key(const std::string& source, const std::string& object, const std::string& key) {
  const std::string path = join_path(object, key);
  const std::string near = closest(key, key_names(object));
  if (!near.empty()) fail(source, path, "unknown key; did you mean \"", near, "\"?");
  for (const auto& [other, keys] : schema()) {  // the right key in the wrong object, e.g. train.dataset
    if (other == object) continue;
    for (const Key& k : keys) {
      if (k.name == key) fail(source, path, "unknown key; did you mean \"", join_path(other, key), "\"?");
    }
  }
  fail(source, path, "unknown key; expected one of: ", c10::Join(", ", key_names(object)));
}

// ---------------------------------------------------------------------------------------------------------------
// Enums spelled as strings.

template <typename E>
using Names = std::vector<std::pair<std::string, E>>;

const Names<Shortcut>& shortcut_names() {
  static const Names<Shortcut> names{{"A", Shortcut::kA}, {"B", Shortcut::kB}};
  return names;
}
const Names<BottleneckStride>& bottleneck_stride_names() {
  static const Names<BottleneckStride> names{{"first-1x1", BottleneckStride::kFirst1x1},
                                                     {"3x3", BottleneckStride::kConv3x3}};
  return names;
}
const Names<FinalMerge>& final_merge_names() {
  static const Names<FinalMerge> names{{"sum", FinalMerge::kSum},
                                               {"double", FinalMerge::kDoubleMerge}};
  return names;
}
const Names<models::PlainIndexing>& plain_indexing_names() {
  static const Names<models::PlainIndexing> names{{"global", models::PlainIndexing::kGlobal},
                                                  {"per-stage", models::PlainIndexing::kPerStage}};
  return names;
}
const Names<ConvInit>& conv_init_names() {
  static const Names<ConvInit> names{{"fan-in", ConvInit::kFanIn},
                                             {"fan-out", ConvInit::kFanOut}};
  return names;
}

template <typename E>
std::string name_of(const Names<E>& names, E value) {
  for (const auto& [name, v] : names) {
    if (v == value) return name;
  }
  TORCH_INTERNAL_ASSERT(false, "enum value without a config name");
}

const std::vector<std::string> kDatasets{"cifar10", "cifar100", "fashion-mnist"};
const std::vector<std::string> kAmpModes{"off", "bf16", "fp16"};
const std::vector<std::string> kBatchScopes{"global", "rank"};

[[noreturn]] void not_one_of(const std::string& source, const std::string& path, const std::vector<std::string>& valid,
                             const std::string& got) {
  const std::string near = closest(got, valid);
  fail(source, path, "expected one of ", quoted_list(valid), " (got ", quoted(got), ")",
       near.empty() ? std::string() : "; did you mean \"" + near + "\"?");
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Classes and input channels a data set implies; network.classes and network.in_channels default to them.
int64_t dataset_classes(const DataSpec& data) {
  if (data.dataset == "cifar100") return data.coarse_labels ? 20 : 100;
  return 10;
}
int64_t dataset_channels(const DataSpec& data) { return data.dataset == "fashion-mnist" ? 1 : 3; }

// ---------------------------------------------------------------------------------------------------------------
// Reading one JSON object: unknown keys first, then typed fields.

class Reader {
 public:
  Reader(const Json& object, std::string path, const std::string& source)
      : object_(object), path_(std::move(path)), source_(source) {
    if (!object_.is_object()) {
      if (path_.empty()) TORCH_CHECK_VALUE(false, "config ", source_, ": expected a JSON object (got ", shown(object_), ")");
      fail(source_, path_, "expected an object (got ", shown(object_), ")");
    }
    const auto names = key_names(path_);
    for (auto it = object_.begin(); it != object_.end(); ++it) {
      if (!contains(names, it.key())) unknown_key(source_, path_, it.key());
    }
  }

  const Json* find(const std::string& key) const {
    const auto it = object_.find(key);
    return it == object_.end() ? nullptr : &*it;
  }
  bool has(const std::string& key) const { return find(key) != nullptr; }
  std::string path(const std::string& key) const { return join_path(path_, key); }

  void read(const std::string& key, std::string& out) const {
    if (const Json* v = find(key)) out = as_string(*v, path(key));
  }
  void read(const std::string& key, bool& out) const {
    if (const Json* v = find(key)) {
      if (!v->is_boolean()) fail(source_, path(key), "expected true or false (got ", shown(*v), ")");
      out = v->get<bool>();
    }
  }
  void read(const std::string& key, std::optional<bool>& out) const {  // true, false or "auto" (unset)
    if (const Json* v = find(key)) {
      if (v->is_string() && v->get<std::string>() == "auto") {
        out.reset();
      } else if (v->is_boolean()) {
        out = v->get<bool>();
      } else {
        fail(source_, path(key), "expected true, false or \"auto\" (got ", shown(*v), ")");
      }
    }
  }
  void read(const std::string& key, int64_t& out) const {
    if (const Json* v = find(key)) out = as_integer(*v, path(key));
  }
  void read(const std::string& key, double& out) const {
    if (const Json* v = find(key)) out = as_number(*v, path(key));
  }
  void read(const std::string& key, std::vector<double>& out) const {
    if (const Json* v = find(key)) {
      if (!v->is_array()) fail(source_, path(key), "expected a list of numbers (got ", shown(*v), ")");
      out.clear();
      for (size_t i = 0; i < v->size(); ++i) out.push_back(as_number((*v)[i], element(key, i)));
    }
  }
  void read(const std::string& key, std::vector<int64_t>& out) const {
    if (const Json* v = find(key)) {
      if (!v->is_array()) fail(source_, path(key), "expected a list of integers (got ", shown(*v), ")");
      out.clear();
      for (size_t i = 0; i < v->size(); ++i) out.push_back(as_integer((*v)[i], element(key, i)));
    }
  }
  template <typename E>
  void read(const std::string& key, E& out, const Names<E>& names) const {
    if (const Json* v = find(key)) {
      const std::string text = as_string(*v, path(key));
      for (const auto& [name, value] : names) {
        if (name == text) {
          out = value;
          return;
        }
      }
      std::vector<std::string> valid;
      for (const auto& entry : names) valid.push_back(entry.first);
      not_one_of(source_, path(key), valid, text);
    }
  }

 private:
  std::string element(const std::string& key, size_t i) const { return path(key) + "[" + std::to_string(i) + "]"; }

  std::string as_string(const Json& v, const std::string& path) const {
    if (!v.is_string()) fail(source_, path, "expected a string (got ", shown(v), ")");
    return v.get<std::string>();
  }
  int64_t as_integer(const Json& v, const std::string& path) const {
    if (!v.is_number_integer()) fail(source_, path, "expected an integer (got ", shown(v), ")");
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      fail(source_, path, "expected a 64-bit integer (got ", shown(v), ")");
    }
    return v.get<int64_t>();
  }
  double as_number(const Json& v, const std::string& path) const {
    if (!v.is_number()) fail(source_, path, "expected a number (got ", shown(v), ")");
    const double value = v.get<double>();
    if (!std::isfinite(value)) fail(source_, path, "expected a finite number (got ", shown(v), ")");
    return value;
  }

  const Json& object_;
  std::string path_;
  const std::string& source_;
};

std::vector<int64_t> seeds_from_text(const std::string& text, const std::string& prefix);

ExperimentConfig from_json(const Json& root, const std::string& source) {
  const Reader top(root, "", source);
  ExperimentConfig config;
  top.read("name", config.name);
  top.read("out", config.out);

  if (const Json* data = top.find("data")) {  // before network: the classes default comes from the data set
    const Reader r(*data, "data", source);
    DataSpec& d = config.data;
    r.read("dataset", d.dataset);
    if (!contains(kDatasets, d.dataset)) not_one_of(source, "data.dataset", kDatasets, d.dataset);
    r.read("dir", d.dir);
    r.read("coarse_labels", d.coarse_labels);
    r.read("subset", d.subset);
    r.read("test_subset", d.test_subset);
    r.read("augment", d.augment);
    r.read("drop_last", d.drop_last);
  }

  const Json* network = top.find("network");
  if (network == nullptr) {
    fail(source, "network", "required key is missing; e.g. \"network\": {\"arch\": \"preresnet\", \"depth\": 110}");
  }
  {
    const Reader r(*network, "network", source);
    models::NetworkSpec& n = config.network;
    if (!r.has("arch")) {
      fail(source, "network.arch", "required key is missing; expected one of: ",
           c10::Join(", ", models::network_names()));
    }
    if (!r.has("depth")) {
      fail(source, "network.depth", "required key is missing; expected the plain-equivalent depth, e.g. 110");
    }
    if (r.has("variant") && r.has("relu_mask")) fail(source, "network", "give variant or relu_mask, not both");
    r.read("arch", n.arch);
    r.read("depth", n.depth);
    r.read("variant", n.variant);
    r.read("relu_mask", n.relu_mask);
    n.num_classes = dataset_classes(config.data);
    n.in_channels = dataset_channels(config.data);
    r.read("classes", n.num_classes);
    r.read("in_channels", n.in_channels);
    r.read("widen_factor", n.widen_factor);
    models::ArchOptions& o = n.options;
    r.read("shortcut", o.shortcut, shortcut_names());
    r.read("shared_preactivation", o.shared_preactivation);
    r.read("shortcut_keeps_relu", o.shortcut_keeps_relu);
    r.read("bottleneck_stride", o.bottleneck_stride, bottleneck_stride_names());
    r.read("final_merge", o.final_merge, final_merge_names());
    r.read("plain_indexing", o.plain_indexing, plain_indexing_names());
    r.read("conv_init", o.conv_init, conv_init_names());
    r.read("bn_eps", o.bn_eps);
    r.read("bn_momentum", o.bn_momentum);
  }

  if (const Json* train = top.find("train")) {
    const Reader r(*train, "train", source);
    TrainSpec& t = config.train;
    r.read("epochs", t.epochs);
    r.read("batch_size", t.batch_size);
    r.read("batch_scope", t.batch_scope);
    r.read("bn_batch", t.bn_batch);
    r.read("lr", t.lr);
    r.read("momentum", t.momentum);
    r.read("nesterov", t.nesterov);
    r.read("weight_decay", t.weight_decay);
    r.read("milestone_fractions", t.milestone_fractions);
    r.read("milestones", t.milestones);
    r.read("lr_factor", t.lr_factor);
    r.read("eval_batch_size", t.eval_batch_size);
    r.read("checkpoint_every", t.checkpoint_every);
    r.read("log_every", t.log_every);
    r.read("device", t.device);
    r.read("amp", t.amp);
    r.read("channels_last", t.channels_last);
    r.read("cuda_graph", t.cuda_graph);
    r.read("deterministic", t.deterministic);
    r.read("threads", t.threads);
  }

  if (const Json* seeds = top.find("seeds")) {
    if (seeds->is_string()) {
      config.seeds = seeds_from_text(seeds->get<std::string>(), "config " + source + ": seeds");
    } else if (seeds->is_number_integer()) {
      config.seeds = {seeds->get<int64_t>()};
    } else if (seeds->is_array()) {
      config.seeds.clear();
      for (size_t i = 0; i < seeds->size(); ++i) {
        const Json& seed = (*seeds)[i];
        if (!seed.is_number_integer()) {
          fail(source, "seeds[" + std::to_string(i) + "]", "expected an integer (got ", shown(seed), ")");
        }
        config.seeds.push_back(seed.get<int64_t>());
      }
    } else {
      fail(source, "seeds", "expected a list of integers or a string like \"0-4\" (got ", shown(*seeds), ")");
    }
  }

  if (const Json* paper = top.find("paper"); paper != nullptr && !paper->is_null()) {
    const Reader r(*paper, "paper", source);
    if (!r.has("mean")) fail(source, "paper.mean", "required key is missing; the paper's mean accuracy in %");
    PaperResult result;
    r.read("mean", result.mean);
    r.read("std", result.std);
    config.paper = result;
  }
  return config;
}

Json to_json_value(const ExperimentConfig& config) {
  const models::NetworkSpec& n = config.network;
  const models::ArchOptions& o = n.options;
  Json network;
  network["arch"] = n.arch;
  network["depth"] = n.depth;
  if (n.relu_mask.empty()) {  // the mask overrides the variant, so only one of them is written
    network["variant"] = n.variant;
  } else {
    network["relu_mask"] = n.relu_mask;
  }
  network["classes"] = n.num_classes;
  network["in_channels"] = n.in_channels;
  network["widen_factor"] = n.widen_factor;
  network["shortcut"] = name_of(shortcut_names(), o.shortcut);
  network["shared_preactivation"] = o.shared_preactivation;
  network["shortcut_keeps_relu"] = o.shortcut_keeps_relu;
  network["bottleneck_stride"] = name_of(bottleneck_stride_names(), o.bottleneck_stride);
  network["final_merge"] = name_of(final_merge_names(), o.final_merge);
  network["plain_indexing"] = name_of(plain_indexing_names(), o.plain_indexing);
  network["conv_init"] = name_of(conv_init_names(), o.conv_init);
  network["bn_eps"] = o.bn_eps;
  network["bn_momentum"] = o.bn_momentum;

  const DataSpec& d = config.data;
  Json data;
  data["dataset"] = d.dataset;
  data["dir"] = d.dir;
  data["coarse_labels"] = d.coarse_labels;
  data["subset"] = d.subset;
  data["test_subset"] = d.test_subset;
  data["augment"] = d.augment;
  data["drop_last"] = d.drop_last;

  const TrainSpec& t = config.train;
  Json train;
  train["epochs"] = t.epochs;
  train["batch_size"] = t.batch_size;
  train["batch_scope"] = t.batch_scope;
  train["bn_batch"] = t.bn_batch;
  train["lr"] = t.lr;
  train["momentum"] = t.momentum;
  train["nesterov"] = t.nesterov;
  train["weight_decay"] = t.weight_decay;
  train["milestone_fractions"] = t.milestone_fractions;
  train["milestones"] = t.milestones;
  train["lr_factor"] = t.lr_factor;
  train["eval_batch_size"] = t.eval_batch_size;
  train["checkpoint_every"] = t.checkpoint_every;
  train["log_every"] = t.log_every;
  train["device"] = t.device;
  train["amp"] = t.amp;
  train["channels_last"] = t.channels_last ? Json(*t.channels_last) : Json("auto");
  train["cuda_graph"] = t.cuda_graph;
  train["deterministic"] = t.deterministic;
  train["threads"] = t.threads;

  Json root;
  root["name"] = config.name;
  root["network"] = std::move(network);
  root["data"] = std::move(data);
  root["train"] = std::move(train);
  root["seeds"] = config.seeds;
  root["out"] = config.out;
  if (config.paper) {
    root["paper"] = Json{{"mean", config.paper->mean}, {"std", config.paper->std}};
  } else {
    root["paper"] = nullptr;
  }
  return root;
}

// Objects one key per line, lists of scalars on one line: `"milestones": [200, 300, 350]`.
void write_pretty(std::ostream& out, const Json& value, int indent) {
  const auto scalar = [](const Json& v) { return v.dump(-1, ' ', false, Json::error_handler_t::replace); };
  if (value.is_object() && !value.empty()) {
    out << "{\n";
    bool first = true;
    for (auto it = value.begin(); it != value.end(); ++it) {
      out << (first ? "" : ",\n") << std::string(indent + 2, ' ') << scalar(Json(it.key())) << ": ";
      write_pretty(out, it.value(), indent + 2);
      first = false;
    }
    out << "\n" << std::string(indent, ' ') << "}";
  } else if (value.is_array()) {
    out << "[";
    for (size_t i = 0; i < value.size(); ++i) {
      out << (i ? ", " : "");
      write_pretty(out, value[i], indent);
    }
    out << "]";
  } else {
    out << scalar(value);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Range checks. Single-key ranges hold after every --set; cross-key rules only once every flag is applied.

void at_least(const std::string& source, const std::string& path, int64_t value, int64_t min) {
  if (value < min) fail(source, path, "expected an integer >= ", min, " (got ", value, ")");
}

void check_fields(const ExperimentConfig& c, const std::string& source) {
  const std::string& name = c.name;
  if (!name.empty()) {
    bool safe = name.front() != '/' && name.back() != '/';
    for (const auto& part : split(name, '/')) safe = safe && !part.empty() && part != "." && part != "..";
    if (!safe) {
      fail(source, "name", "expected a relative folder name such as \"table2/preresnet-110\" (got ", quoted(name),
           ")");
    }
  }
  if (c.out.empty()) fail(source, "out", "expected a folder (got \"\")");

  const models::NetworkSpec& n = c.network;
  at_least(source, "network.classes", n.num_classes, 2);
  at_least(source, "network.in_channels", n.in_channels, 1);
  at_least(source, "network.widen_factor", n.widen_factor, 1);
  if (!(n.options.bn_eps > 0)) fail(source, "network.bn_eps", "expected a number > 0 (got ", number(n.options.bn_eps), ")");
  if (!(n.options.bn_momentum > 0 && n.options.bn_momentum <= 1)) {
    fail(source, "network.bn_momentum", "expected a number in (0, 1] (got ", number(n.options.bn_momentum),
         "); LibTorch's convention, 0.1 = MXNet's 0.9");
  }

  const DataSpec& d = c.data;
  if (!contains(kDatasets, d.dataset)) not_one_of(source, "data.dataset", kDatasets, d.dataset);
  at_least(source, "data.subset", d.subset, 0);
  at_least(source, "data.test_subset", d.test_subset, 0);

  const TrainSpec& t = c.train;
  at_least(source, "train.epochs", t.epochs, 1);
  at_least(source, "train.batch_size", t.batch_size, 1);
  if (!(t.lr > 0)) fail(source, "train.lr", "expected a number > 0 (got ", number(t.lr), ")");
  if (!(t.momentum >= 0 && t.momentum < 1)) {
    fail(source, "train.momentum", "expected a number in [0, 1) (got ", number(t.momentum), ")");
  }
  if (!(t.weight_decay >= 0)) {
    fail(source, "train.weight_decay", "expected a number >= 0 (got ", number(t.weight_decay), ")");
  }
  for (size_t i = 0; i < t.milestone_fractions.size(); ++i) {
    const std::string path = "train.milestone_fractions[" + std::to_string(i) + "]";
    const double f = t.milestone_fractions[i];
    if (!(f > 0 && f < 1)) fail(source, path, "expected a fraction of train.epochs in (0, 1) (got ", number(f), ")");
    if (i > 0 && !(f > t.milestone_fractions[i - 1])) {
      fail(source, path, "expected increasing fractions (got ", number(f), " after ",
           number(t.milestone_fractions[i - 1]), ")");
    }
  }
  for (size_t i = 0; i < t.milestones.size(); ++i) {
    const std::string path = "train.milestones[" + std::to_string(i) + "]";
    at_least(source, path, t.milestones[i], 0);
    if (i > 0 && t.milestones[i] <= t.milestones[i - 1]) {
      fail(source, path, "expected increasing epochs (got ", t.milestones[i], " after ", t.milestones[i - 1], ")");
    }
  }
  if (!(t.lr_factor > 0 && t.lr_factor <= 1)) {
    fail(source, "train.lr_factor", "expected a number in (0, 1] (got ", number(t.lr_factor), ")");
  }
  at_least(source, "train.eval_batch_size", t.eval_batch_size, 1);
  at_least(source, "train.checkpoint_every", t.checkpoint_every, 1);
  at_least(source, "train.log_every", t.log_every, 1);
  at_least(source, "train.threads", t.threads, 0);
  bool device_ok = t.device == "auto" || t.device == "cpu" || t.device == "cuda";
  if (!device_ok && t.device.rfind("cuda:", 0) == 0 && t.device.size() > 5 && t.device.size() <= 8) {
    device_ok = t.device.find_first_not_of("0123456789", 5) == std::string::npos;
  }
  if (!device_ok) {
    fail(source, "train.device", "expected \"auto\", \"cpu\", \"cuda\" or \"cuda:N\" (got ", quoted(t.device), ")");
  }
  if (!contains(kAmpModes, t.amp)) not_one_of(source, "train.amp", kAmpModes, t.amp);
  if (!contains(kBatchScopes, t.batch_scope)) not_one_of(source, "train.batch_scope", kBatchScopes, t.batch_scope);
  at_least(source, "train.bn_batch", t.bn_batch, 0);

  if (c.seeds.empty()) fail(source, "seeds", "expected at least one seed (got [])");
  std::set<int64_t> seen;
  for (size_t i = 0; i < c.seeds.size(); ++i) {
    const std::string path = "seeds[" + std::to_string(i) + "]";
    if (c.seeds[i] < 0) fail(source, path, "expected a non-negative seed (got ", c.seeds[i], ")");
    if (!seen.insert(c.seeds[i]).second) fail(source, path, "expected unique seeds (got ", c.seeds[i], " twice)");
  }

  if (c.paper) {
    if (!(c.paper->mean >= 0 && c.paper->mean <= 100)) {
      fail(source, "paper.mean", "expected an accuracy in [0, 100] % (got ", number(c.paper->mean), ")");
    }
    if (!(c.paper->std >= 0)) fail(source, "paper.std", "expected a number >= 0 (got ", number(c.paper->std), ")");
  }
}

template <typename Fn>
void rethrow_as(const std::string& source, const std::string& path, Fn&& check) {
  try {
    check();
  } catch (const c10::ValueError& e) {
    fail(source, path, e.msg());
  }
}

void check_cross(const ExperimentConfig& c, const std::string& source) {
  const models::NetworkSpec& n = c.network;
  // The registry's own checks, so a bad name, depth or mask fails before any data is read.
  rethrow_as(source, "network.arch", [&] { models::network_info(n.arch); });
  rethrow_as(source, "network.depth", [&] { models::stage_blocks(n); });
  rethrow_as(source, n.relu_mask.empty() ? "network.variant" : "network.relu_mask",
             [&] { models::resolve_relu_mask(n); });
  if (n.widen_factor != 1 && n.arch != "dfn-mr") {
    fail(source, "network.widen_factor", "expected 1 for ", quoted(n.arch), " (got ", n.widen_factor,
         "); only dfn-mr widens");
  }

  const DataSpec& d = c.data;
  if (d.coarse_labels && d.dataset != "cifar100") {
    fail(source, "data.coarse_labels", "expected false for ", quoted(d.dataset), " (got true); cifar100 only");
  }
  const int64_t classes = dataset_classes(d);
  if (n.num_classes != classes) {
    fail(source, "network.classes", "expected ", classes, " for ", quoted(d.dataset),
         d.coarse_labels ? " with coarse labels" : "", " (got ", n.num_classes, ")");
  }
  const int64_t channels = dataset_channels(d);
  if (n.in_channels != channels) {
    fail(source, "network.in_channels", "expected ", channels, " for ", quoted(d.dataset), " (got ", n.in_channels, ")");
  }

  const TrainSpec& t = c.train;
  for (size_t i = 0; i < t.milestones.size(); ++i) {
    if (t.milestones[i] >= t.epochs) {
      fail(source, "train.milestones[" + std::to_string(i) + "]", "expected an epoch in [0, ", t.epochs,
           ") = [0, train.epochs) (got ", t.milestones[i], "); change train.milestones or use train.milestone_fractions");
    }
  }
  if (t.nesterov && !(t.momentum > 0)) {
    fail(source, "train.nesterov", "expected false when train.momentum is 0 (got true); Nesterov needs momentum > 0");
  }
  if (t.amp != "off" && t.device == "cpu") {
    fail(source, "train.amp", "expected \"off\" on train.device \"cpu\" (got ", quoted(t.amp), "); AMP is CUDA only");
  }
  if (t.cuda_graph && t.device == "cpu") {
    fail(source, "train.cuda_graph", "expected false on train.device \"cpu\" (got true); CUDA graphs are CUDA only");
  }
  if (t.cuda_graph && t.amp == "fp16") {
    fail(source, "train.cuda_graph", "expected false with train.amp \"fp16\" (got true): the fp16 loss scaler reads "
         "the host every step; use train.amp \"bf16\"");
  }
}

std::string trim(const std::string& text) {
  const auto begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(" \t") - begin + 1);
}

std::vector<int64_t> seeds_from_text(const std::string& text, const std::string& prefix) {
  const auto bad = [&](const std::string& what, const std::string& token) {
    TORCH_CHECK_VALUE(false, prefix, ": expected ", what, " (got ", quoted(token),
                      token == text ? std::string() : " in " + quoted(text), ")");
  };
  const auto seed = [&](const std::string& digits, const std::string& token) -> int64_t {
    if (digits.size() > 1 && digits[0] == '-' &&
        digits.find_first_not_of("0123456789", 1) == std::string::npos) {
      bad("non-negative seeds", token);
    }
    if (digits.empty() || digits.size() > 18 || digits.find_first_not_of("0123456789") != std::string::npos) {
      bad("seeds like \"0-4\", \"0,2,5\" or \"0-2,7\"", token);
    }
    return std::stoll(digits);
  };
  if (trim(text).empty()) bad("seeds like \"0-4\", \"0,2,5\" or \"0-2,7\"", text);
  std::vector<int64_t> seeds;
  std::set<int64_t> seen;
  for (const auto& raw : split(text, ',')) {
    const std::string token = trim(raw);
    const auto dash = token.find('-', 1);  // a leading '-' is a sign, reported as negative
    int64_t first = 0, last = 0;
    if (dash == std::string::npos) {
      first = last = seed(token, token);
    } else {
      first = seed(trim(token.substr(0, dash)), token);
      last = seed(trim(token.substr(dash + 1)), token);
      if (last < first) bad("an ascending range", token);
    }
    if (last - first >= kMaxSeeds || static_cast<int64_t>(seeds.size()) + (last - first) >= kMaxSeeds) {
      bad("at most " + std::to_string(kMaxSeeds) + " seeds", token);
    }
    for (int64_t s = first; s <= last; ++s) {
      if (!seen.insert(s).second) bad("unique seeds, " + std::to_string(s) + " appears twice", token);
      seeds.push_back(s);
    }
  }
  return seeds;
}

// The schema kind of a dotted key path; throws the unknown-key message otherwise.
Kind kind_of(const std::vector<std::string>& parts, const std::string& source) {
  std::string object;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!schema().count(object)) {
      fail(source, join_path(object, parts[i]), "unknown key; \"", object, "\" has no keys");
    }
    const auto& keys = schema().at(object);
    const auto it = std::find_if(keys.begin(), keys.end(), [&](const Key& k) { return parts[i] == k.name; });
    if (it == keys.end()) unknown_key(source, object, parts[i]);
    if (i + 1 == parts.size()) return it->kind;
    object = join_path(object, parts[i]);
  }
  TORCH_INTERNAL_ASSERT(false, "empty key path");
}

}  // namespace

ExperimentConfig load_config(const std::string& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    TORCH_CHECK_VALUE(false, "config ", quoted_path(path), ": cannot open: ", std::strerror(EISDIR));
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) TORCH_CHECK_VALUE(false, "config ", quoted_path(path), ": cannot open: ", std::strerror(errno));
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) TORCH_CHECK_VALUE(false, "config ", quoted_path(path), ": cannot read: ", std::strerror(errno));
  return parse_config(text.str(), path);
}

ExperimentConfig parse_config(const std::string& text, const std::string& source) {
  Json root;
  try {
    root = Json::parse(text);
  } catch (const Json::parse_error& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 3, column 5: ..."; keep what follows the tag.
    std::string what = e.what();
    const auto tag_end = what.find("] ");
    if (tag_end != std::string::npos) what = what.substr(tag_end + 2);
    TORCH_CHECK_VALUE(false, "config ", source, ": invalid JSON: ", what);
  }
  ExperimentConfig config = from_json(root, source);
  validate(config, source);
  return config;
}

void apply_override(ExperimentConfig& config, const std::string& assignment) {
  const std::string source = "--set";
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || trim(assignment.substr(0, eq)).empty()) {
    TORCH_CHECK_VALUE(false, "config --set: expected key.path=value, e.g. train.lr=0.05 (got ", quoted(assignment), ")");
  }
  const std::string key = trim(assignment.substr(0, eq));
  const std::string text = assignment.substr(eq + 1);
  const std::vector<std::string> parts = split(key, '.');
  for (const auto& part : parts) {
    if (part.empty()) TORCH_CHECK_VALUE(false, "config --set: expected key.path=value (got key ", quoted(key), ")");
  }
  const Kind kind = kind_of(parts, source);

  Json value;
  try {
    value = Json::parse(text);
  } catch (const Json::parse_error&) {
    value = text;  // not JSON: a bare string such as cifar100 or cuda:1
  }
  if (kind == Kind::kString && !value.is_string()) value = text;  // name=2024 and relu_mask=01 stay strings

  Json root = to_json_value(config);
  const DataSpec old_data = config.data;
  Json* node = &root;
  for (size_t i = 0; i + 1 < parts.size(); ++i) node = &(*node)[parts[i]];  // a null paper becomes an object
  (*node)[parts.back()] = value;

  Json& network = root["network"];
  if (network.is_object()) {
    if (key == "network.variant") network.erase("relu_mask");
    if (key == "network.relu_mask") network.erase("variant");
    if (parts[0] == "data") {
      // Classes and channels that were the old data set's follow the new one (cifar10 -> cifar100: 10 -> 100).
      const auto follows = [&](const char* k, int64_t old_value) {
        const auto it = network.find(k);
        if (it != network.end() && *it == Json(old_value)) network.erase(k);
      };
      follows("classes", dataset_classes(old_data));
      follows("in_channels", dataset_channels(old_data));
    }
  }

  ExperimentConfig updated = from_json(root, source);
  check_fields(updated, source);
  config = std::move(updated);
}

void validate(const ExperimentConfig& config, const std::string& source) {
  check_fields(config, source);
  check_cross(config, source);
}

std::string to_json(const ExperimentConfig& config) {
  std::ostringstream out;
  write_pretty(out, to_json_value(config), 0);
  out << "\n";
  return out.str();
}

std::string run_name(const ExperimentConfig& config) {
  if (!config.name.empty()) return config.name;
  const models::NetworkSpec& n = config.network;
  std::string name = n.arch + "-" + std::to_string(n.depth);
  if (n.widen_factor != 1) name += "-k" + std::to_string(n.widen_factor);
  name += "-" + (n.relu_mask.empty() ? n.variant : n.relu_mask) + "-" + config.data.dataset;
  if (config.data.coarse_labels) name += "-coarse";
  return name;
}

std::vector<int64_t> parse_seed_list(const std::string& text) { return seeds_from_text(text, "seeds"); }

}  // namespace propnet
