#include "messages.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include <c10/util/StringUtil.h>

namespace propnet::config_detail {
namespace {

constexpr size_t kMaxShownChars = 60;  // longer values are cut in error messages

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

void not_one_of(const Where& where, const std::vector<std::string>& valid, const std::string& got) {
  const std::string near = closest(got, valid);
  fail(where, "expected ", where.plain_choices ? "" : "one of ", choice_list(valid, where.plain_choices), " (got ",
       quoted(got), ")",
       near.empty() ? std::string() : "; did you mean \"" + near + "\"?");
}

}  // namespace propnet::config_detail
