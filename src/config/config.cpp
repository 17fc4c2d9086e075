// The public config functions (include/propnet/config.h), each a walk over the schema table.
#include <propnet/config.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <tuple>

#include <propnet/choices.h>
#include <propnet/nn/relu_mask.h>
#include <propnet/runtime.h>

#include "checks.h"

namespace propnet {
namespace {

using config_detail::fail;
using config_detail::Field;
using config_detail::find_field;
using config_detail::Json;
using config_detail::Namer;
using config_detail::quoted;
using config_detail::Where;

std::string trim(const std::string& text) {
  const auto begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(" \t") - begin + 1);
}

// Paths are never cut: a user must be able to find the file.
std::string quoted_path(const std::string& path) { return "\"" + path + "\""; }

// The field of a dotted key path; throws the unknown-key message otherwise.
const Field& field_at(const std::string& key, const Namer& where) {
  std::string object;
  size_t begin = 0;
  while (true) {
    const size_t dot = key.find('.', begin);
    const std::string part = key.substr(begin, dot == std::string::npos ? std::string::npos : dot - begin);
    const std::string path = object.empty() ? part : object + "." + part;
    if (!object.empty() && !find_field(object)->is_object()) {
      fail(where(path), "unknown key; \"", object, "\" has no keys");
    }
    const Field* f = find_field(path);
    if (f == nullptr) config_detail::unknown_key(where(path), object, part);
    if (dot == std::string::npos) return *f;
    object = path;
    begin = dot + 1;
  }
}

// Sets `field` to `value` as if it were written in the config, then rereads and range-checks the
// whole config, so a failed assignment leaves `config` as it was.
void assign(ExperimentConfig& config, const Field& field, Json value, const Namer& where) {
  Json root = config_detail::to_json_value(config);
  const std::string& path = field.key.path;
  Json* node = &root;
  size_t begin = 0;
  for (size_t dot = path.find('.'); dot != std::string::npos; dot = path.find('.', begin)) {
    node = &(*node)[path.substr(begin, dot - begin)];  // a null paper becomes an object
    begin = dot + 1;
  }
  (*node)[path.substr(begin)] = std::move(value);

  Json& network = root["network"];
  if (network.is_object()) {
    // The variant, the mask and the mask file replace one another (relu_drop applies on top of any).
    const auto replaces = [&](const char* key, std::initializer_list<const char*> others) {
      if (path != std::string("network.") + key) return;
      for (const char* other : others) network.erase(other);
    };
    replaces("variant", {"relu_mask", "relu_mask_file"});
    replaces("relu_mask", {"variant", "relu_mask_file"});
    replaces("relu_mask_file", {"variant", "relu_mask"});
    if (path.rfind("data", 0) == 0) {
      // Classes and channels that were the old data set's follow the new one (cifar10 -> cifar100: 10 -> 100).
      const auto follows = [&](const char* k, int64_t old_value) {
        const auto it = network.find(k);
        if (it != network.end() && *it == Json(old_value)) network.erase(k);
      };
      follows("classes", data::classes_of(config.data.dataset, config.data.coarse_labels));
      follows("in_channels", data::channels_of(config.data.dataset));
    }
  }
  ExperimentConfig updated = config_detail::from_json(root, where);
  config_detail::check_fields(updated, where);
  config = std::move(updated);
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
  ExperimentConfig config = config_detail::from_json(root, config_detail::config_namer(source));
  validate(config, source);
  return config;
}

void apply_override(ExperimentConfig& config, const std::string& assignment) {
  const Namer where = config_detail::config_namer("--set");
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || trim(assignment.substr(0, eq)).empty()) {
    TORCH_CHECK_VALUE(false, "config --set: expected key.path=value, e.g. train.lr=0.05 (got ", quoted(assignment), ")");
  }
  const std::string key = trim(assignment.substr(0, eq));
  const std::string text = assignment.substr(eq + 1);
  if (key.front() == '.' || key.back() == '.' || key.find("..") != std::string::npos) {
    TORCH_CHECK_VALUE(false, "config --set: expected key.path=value (got key ", quoted(key), ")");
  }
  const Field& field = field_at(key, where);
  Json value;
  try {
    value = Json::parse(text);
  } catch (const Json::parse_error&) {
    value = text;  // not JSON: a bare string such as cifar100 or cuda:1
  }
  if (field.string_valued && !value.is_string()) value = text;  // name=2024 and relu_mask=01 stay strings
  assign(config, field, std::move(value), where);
}

void apply_flag(ExperimentConfig& config, const std::string& flag, const std::string& text) {
  const Field* field = nullptr;
  for (const Field& f : config_detail::fields()) {
    if (f.key.flag.name == flag) field = &f;
  }
  TORCH_CHECK_VALUE(field != nullptr, "--", flag, ": no config key has this flag");
  const Where at_flag{"--" + flag, /*plain_choices=*/true};
  Json value;
  if (!field->key.flag.takes_value) {
    value = Json::parse(field->key.flag.switch_value);
  } else if (!field->flag_words.empty()) {
    std::vector<std::string> words;
    for (const auto& [word, json] : field->flag_words) {
      if (word == text) value = json;
      words.push_back(word);
    }
    if (value.is_null()) {
      fail(at_flag, "expected ", config_detail::choice_list(words, true), ", as --", flag, "=", words[1], " (got ",
           quoted(text), ")");
    }
  } else if (field->string_valued) {
    value = text;
  } else {
    try {
      value = Json::parse(text);
    } catch (const Json::parse_error&) {
      value = text;  // reported as the wrong type
    }
  }
  const Namer flags = config_detail::config_namer("flags");
  const std::string& path = field->key.path;
  assign(config, *field, std::move(value), [&](const std::string& p) { return p == path ? at_flag : flags(p); });
}

bool SearchSpec::operator==(const SearchSpec& o) const {
  const auto fields = [](const SearchSpec& s) {
    return std::tie(s.method, s.keep, s.keep_fraction, s.relu_budget, s.min_keep_per_stage, s.seeds, s.count, s.max,
                    s.warmup_fraction, s.freeze_fraction, s.score_every, s.reselect_every, s.score_batch, s.beta,
                    s.hysteresis, s.greedy_batches);
  };
  return fields(*this) == fields(o);
}

void validate(const ExperimentConfig& config, const std::string& source) {
  const Namer where = config_detail::config_namer(source);
  config_detail::check_fields(config, where);
  config_detail::check_cross(config, where);
}

void check_device_rules(const TrainSpec& spec, const std::optional<c10::Device>& device, int64_t ranks) {
  const Namer where = [](const std::string& path) { return Where{path}; };
  config_detail::check_device_rules(spec, device, ranks, where);
}

void validate(const TrainSpec& spec) {
  ExperimentConfig config;
  config.train = spec;
  const Namer where = [](const std::string& path) { return Where{"TrainSpec: " + path}; };
  for (const Field& f : config_detail::fields()) {
    if (config_detail::parent_of(f.key.path) == "train" && f.check) f.check(config, where(f.key.path));
  }
  config_detail::check_train_rules(spec, where);
}

std::string to_json(const ExperimentConfig& config, bool environment) {
  Json root = config_detail::to_json_value(config);
  if (environment) {
    const RuntimeInfo info = runtime_info();
    root["environment"] = Json{{"propnet", info.propnet_version},  {"libtorch", info.torch_version},
                               {"cuda", info.cuda_compiled},       {"cuda_devices", info.cuda_devices},
                               {"git_sha", info.git_revision},     {"git_dirty", info.git_dirty},
                               {"cpu", info.cpu.model},            {"cpu_features", info.cpu.names()}};
  }
  std::ostringstream out;
  config_detail::write_pretty(out, root, 0);
  out << "\n";
  return out.str();
}

namespace {
// The variant or a short mask as it is; a network mask (dozens of bits) as "mask-" and a hash of its bits.
std::string mask_label(const models::NetworkSpec& n) {
  const models::NetworkMask& mask = n.mask;
  if (!mask.keep) return mask.variant;
  const std::string bits = mask.keep->to_string();
  constexpr size_t kShown = 16;
  if (bits.size() <= kShown) return bits;
  uint32_t hash = 2166136261u;  // FNV-1a
  for (char c : bits) hash = (hash ^ static_cast<unsigned char>(c)) * 16777619u;
  char label[16];
  std::snprintf(label, sizeof label, "mask-%08x", static_cast<unsigned>(hash));
  return label;
}
}  // namespace

std::string run_name(const ExperimentConfig& config) {
  if (!config.name.empty()) return config.name;
  const models::NetworkSpec& n = config.network;
  std::string name = n.arch + "-" + std::to_string(n.depth);
  if (n.widen_factor != 1) name += "-k" + std::to_string(n.widen_factor);
  name += "-" + mask_label(n) + "-" + to_string(config.data.dataset);
  if (config.data.coarse_labels) name += "-coarse";
  return name;
}

std::optional<ConfigDifference> first_result_difference(const ExperimentConfig& before, const ExperimentConfig& now) {
  for (const Field& f : config_detail::fields()) {
    if (f.is_object() || !f.key.changes_results) continue;
    const auto shown = [&](const ExperimentConfig& c) {
      return f.omitted && f.omitted(c) ? std::string("absent") : f.value(c).dump();
    };
    const std::string a = shown(before), b = shown(now);
    if (a != b) return ConfigDifference{f.key.path, a, b};
  }
  return std::nullopt;
}

}  // namespace propnet
