#include "messages.h"

#include <cmath>

#include <c10/util/StringUtil.h>

#include <propnet/choices.h>

namespace propnet::config_detail {
namespace {

constexpr size_t kMaxShownChars = 60;  // longer values are cut in error messages

}  // namespace

std::string shown(const Json& value) {
  std::string text = value.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (text.size() > kMaxShownChars) text = text.substr(0, kMaxShownChars - 3) + "...";
  return text;
}

std::string quoted(const std::string& text) { return shown(Json(text)); }

std::string number(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  std::string text = Json(value).dump();
  if (text.size() > 2 && text.compare(text.size() - 2, 2, ".0") == 0) text.resize(text.size() - 2);  // 1, not 1.0
  return text;
}

std::string choice_list(const std::vector<std::string>& names, bool plain) {
  std::vector<std::string> items;
  for (const auto& name : names) items.push_back(plain ? name : quoted(name));
  if (!plain || items.size() < 2) return c10::Join(", ", items);
  const std::string last = items.back();
  items.pop_back();
  return c10::Join(", ", items) + " or " + last;
}

void not_one_of(const Where& where, const std::vector<std::string>& valid, const std::string& got) {
  const std::string near = closest_name(got, valid);
  fail(where, "expected ", where.plain_choices ? "" : "one of ", choice_list(valid, where.plain_choices), " (got ",
       quoted(got), ")",
       near.empty() ? std::string() : "; did you mean \"" + near + "\"?");
}

}  // namespace propnet::config_detail
