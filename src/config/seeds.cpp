// Seed lists as users type them: "0-4", "0,2,5", "0-2,7".
#include <set>

#include "fields.h"

namespace propnet::config_detail {
namespace {

constexpr int64_t kMaxSeeds = 10000;  // a seed list is a handful of runs, not a range typo like 0-1000000

std::string trim(const std::string& text) {
  const auto begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(" \t") - begin + 1);
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

}  // namespace

std::vector<int64_t> seeds_from_text(const std::string& text, const std::string& prefix) {
  const auto bad = [&](const std::string& what, const std::string& token) {
    TORCH_CHECK_VALUE(false, prefix, ": expected ", what, " (got ", quoted(token),
                      token == text ? std::string() : " in " + quoted(text), ")");
  };
  const auto seed = [&](const std::string& digits, const std::string& token) -> int64_t {
    if (digits.size() > 1 && digits[0] == '-' && digits.find_first_not_of("0123456789", 1) == std::string::npos) {
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

}  // namespace propnet::config_detail

namespace propnet {
std::vector<int64_t> parse_seed_list(const std::string& text) { return config_detail::seeds_from_text(text, "seeds"); }
}  // namespace propnet
