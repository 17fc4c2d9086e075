#pragma once
// The config schema: one table of every key (src/config/schema.cpp) with its type, default, range,
// documentation, whether it changes results, and its command-line flag. Reading, writing, --set,
// flags, validation, run-folder comparison and the docs test all walk this table.
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <propnet/config.h>

#include "messages.h"

namespace propnet::config_detail {

inline constexpr FlagGroup kNetworkFlags = FlagGroup::kNetwork;
inline constexpr FlagGroup kSwitchFlags = FlagGroup::kSwitches;
inline constexpr FlagGroup kExperimentFlags = FlagGroup::kExperiment;
inline constexpr FlagGroup kDataFlags = FlagGroup::kData;
inline constexpr FlagGroup kTrainingFlags = FlagGroup::kTraining;
inline constexpr FlagGroup kSearchFlags = FlagGroup::kSearch;

/// One key or object of the schema and what the config layer does with it.
struct Field {
  ConfigKey key;  ///< The public description; `default_json` is filled from a default config.
  /// Stores a JSON value into the config; checks its type, not its range.
  std::function<void(ExperimentConfig&, const Json&, const Where&)> read;
  /// The typed value as JSON (objects: unused).
  std::function<Json(const ExperimentConfig&)> value;
  /// The single-key range check of the typed value; empty for keys without one.
  std::function<void(const ExperimentConfig&, const Where&)> check;
  /// True where the key is left out of the JSON (relu_mask when empty, variant when a mask is set).
  std::function<bool(const ExperimentConfig&)> omitted;
  /// Non-empty for required keys: the hint after "required key is missing; ".
  std::string required;
  /// Objects that may be null (paper); `read` gets the raw value (null or an object) and `omitted`
  /// says when it is null.
  bool nullable = false;
  /// Whether the JSON value is a string, so that `--set key=2024` keeps "2024" as text.
  bool string_valued = false;
  /// A flag with words of its own (--channels-last on|off|auto): flag text -> JSON value.
  std::vector<std::pair<std::string, Json>> flag_words;

  bool is_object() const { return key.type == KeyType::kObject; }

  // Table modifiers.
  Field& flag(std::string name, FlagGroup group, std::string help);
  Field& switch_flag(std::string name, FlagGroup group, std::string help, Json sets);
  Field& implicit(std::string value);
  Field& repeatable();
  Field& words(std::vector<std::pair<std::string, Json>> flag_words_);
  Field& run_invariant();
  Field& require(std::string hint);
  /// For keys whose range another layer checks (the registry checks depths): no single-key check.
  Field& checked_by(std::string allowed);
};

/// Every field, in the order configs are written.
const std::vector<Field>& fields();
/// The field at `path` ("train.lr", "train"), or nullptr.
const Field* find_field(const std::string& path);
/// The fields directly inside object `object` ("" = the top level), in order.
std::vector<const Field*> fields_in(const std::string& object);
/// "train" for "train.lr", "" for "seeds".
std::string parent_of(const std::string& path);
/// "lr" for "train.lr".
std::string leaf_of(const std::string& path);

}  // namespace propnet::config_detail
