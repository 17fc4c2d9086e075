#include "json_io.h"

#include "mask_file.h"

#include <c10/util/StringUtil.h>

#include <propnet/choices.h>
#include <propnet/config.h>
#include <propnet/data/dataset_kind.h>

namespace propnet::config_detail {
namespace {

// Top-level keys the reader accepts and ignores: what `propnet train` adds to a run's config.json.
constexpr const char* kIgnoredKeys[] = {"environment"};

bool ignored(const std::string& object, const std::string& key) {
  if (!object.empty()) return false;
  for (const char* name : kIgnoredKeys) {
    if (key == name) return true;
  }
  return false;
}

std::string join_path(const std::string& object, const std::string& key) {
  return object.empty() ? key : object + "." + key;
}

std::vector<std::string> key_names(const std::string& object) {
  std::vector<std::string> names;
  for (const Field* f : fields_in(object)) names.push_back(leaf_of(f->key.path));
  return names;
}

void check_keys(const Json& object, const std::string& path, const Namer& where) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    if (find_field(join_path(path, it.key())) == nullptr && !ignored(path, it.key())) {
      unknown_key(where(join_path(path, it.key())), path, it.key());
    }
  }
}

void read_object(const Json& object, const std::string& path, ExperimentConfig& config, const Namer& where) {
  check_keys(object, path, where);
  for (const Field* f : fields_in(path)) {
    const std::string name = leaf_of(f->key.path);
    const auto it = object.find(name);
    if (it == object.end()) {
      if (!f->required.empty()) fail(where(f->key.path), "required key is missing; ", f->required);
      continue;
    }
    if (!f->is_object()) {
      f->read(config, *it, where(f->key.path));
      continue;
    }
    if (f->nullable) f->read(config, *it, where(f->key.path));
    if (f->nullable && it->is_null()) continue;
    if (!it->is_object()) fail(where(f->key.path), "expected an object (got ", shown(*it), ")");
    if (f->key.path == "network" && it->contains("variant") && it->contains("relu_mask")) {
      fail(where("network"), "give variant or relu_mask, not both");
    }
    read_object(*it, f->key.path, config, where);
  }
}

void write_object(Json& out, const std::string& path, const ExperimentConfig& config) {
  out = Json::object();
  for (const Field* f : fields_in(path)) {
    const bool omitted = f->omitted && f->omitted(config);
    const std::string name = leaf_of(f->key.path);
    if (f->is_object()) {
      if (omitted && f->nullable) {
        out[name] = nullptr;
      } else if (!omitted) {
        write_object(out[name], f->key.path, config);
      }
    } else if (!omitted) {
      out[name] = f->value(config);
    }
  }
}

}  // namespace

Namer config_namer(const std::string& source) {
  return [source](const std::string& path) {
    return Where{path.empty() ? "config " + source : "config " + source + ": " + path};
  };
}

void unknown_key(const Where& where, const std::string& object, const std::string& key) {
  const std::string near = closest_name(key, key_names(object));
  if (!near.empty()) fail(where, "unknown key; did you mean \"", near, "\"?");
  for (const Field& f : fields()) {  // the right key in the wrong object, e.g. train.dataset
    if (leaf_of(f.key.path) == key && parent_of(f.key.path) != object) {
      fail(where, "unknown key; did you mean \"", f.key.path, "\"?");
    }
  }
  fail(where, "unknown key; expected one of: ", c10::Join(", ", key_names(object)));
}

ExperimentConfig from_json(const Json& root, const Namer& where) {
  if (!root.is_object()) TORCH_CHECK_VALUE(false, where("").prefix, ": expected a JSON object (got ", shown(root), ")");
  ExperimentConfig config;
  read_object(root, "", config, where);
  // Classes and channels default to the data set's (read after the data object, wherever it stands).
  const Json& network = root.at("network");
  if (!network.contains("classes")) {
    config.network.num_classes = data::classes_of(config.data.dataset, config.data.coarse_labels);
  }
  if (!network.contains("in_channels")) config.network.in_channels = data::channels_of(config.data.dataset);
  // The config edge reads the mask file, once: a network never reads files. Set keep-bits are what it read before.
  if (!config.relu_mask_file.empty() && !config.network.mask.keep) {
    try {
      config.network.mask.keep = read_network_mask_file(config.relu_mask_file, config.network);
    } catch (const c10::ValueError& e) {
      fail(where("network.relu_mask_file"), e.msg());
    }
  }
  return config;
}

Json to_json_value(const ExperimentConfig& config) {
  Json root;
  write_object(root, "", config);
  return root;
}

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

}  // namespace propnet::config_detail
