#pragma once
// Error messages of the config layer: `<where>: expected <what> (got <actual>)[; <fix>]` (style guide §8.5).
#include <string>
#include <vector>

#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>

namespace propnet::config_detail {

// ordered_json keeps keys in file order, so errors name the first bad key and to_json follows the schema.
using Json = nlohmann::ordered_json;

/// What an error names: "config t.json: train.lr" for a config key, "--lr" for a flag.
struct Where {
  std::string prefix;
  bool plain_choices = false;  ///< Flags list choices unquoted: expected A or B.

  /// The same place one element further: "...train.milestones[1]".
  Where element(size_t index) const { return {prefix + "[" + std::to_string(index) + "]", plain_choices}; }
};

template <typename... Args>
[[noreturn]] void fail(const Where& where, const Args&... args) {
  TORCH_CHECK_VALUE(false, where.prefix, ": ", args...);
}

/// `value` as compact JSON, cut to a readable length.
std::string shown(const Json& value);
/// `text` as a JSON string literal, cut like `shown`.
std::string quoted(const std::string& text);
/// The shortest text that reads back as `value`: 1, 0.1, 1e-05.
std::string number(double value);
/// "\"a\", \"b\", \"c\"" (or, `plain`, as flags write it: "a, b or c").
std::string choice_list(const std::vector<std::string>& names, bool plain = false);
/// `expected one of "a", "b" (got "c"); did you mean "a"?`, or for flags `expected a or b (got "c")`.
[[noreturn]] void not_one_of(const Where& where, const std::vector<std::string>& valid, const std::string& got);

}  // namespace propnet::config_detail
