#pragma once
// Configs to and from JSON through the schema table: unknown keys, required keys, types, order.
#include <functional>
#include <ostream>
#include <string>

#include "schema.h"

namespace propnet::config_detail {

/// What an error at `path` names ("" = the whole document).
using Namer = std::function<Where(const std::string& path)>;
/// Config-file style: "config <source>: <path>".
Namer config_namer(const std::string& source);

/// Reads a whole config: unknown keys (with a did-you-mean), required keys and types. Keys absent
/// take their defaults; network.classes and in_channels default to the data set's. Ranges and
/// cross-key rules are left to checks.h.
ExperimentConfig from_json(const Json& root, const Namer& where);
/// Every key in schema order (omitted ones left out), as from_json reads it.
Json to_json_value(const ExperimentConfig& config);
/// Objects one key per line, lists of scalars on one line: `"milestones": [200, 300, 350]`.
void write_pretty(std::ostream& out, const Json& value, int indent = 0);
/// The unknown-key error for `key` inside `object`: a close key, the same key in another object, or the list.
[[noreturn]] void unknown_key(const Where& where, const std::string& object, const std::string& key);

}  // namespace propnet::config_detail
