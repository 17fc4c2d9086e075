// What every choice enum's spelling shares; each layer spells its own enums beside them (src/config/spellings.cpp,
// src/nn/switches.cpp, src/models/spellings.cpp, src/data/spellings.cpp), so no layer includes one above it.
#include <propnet/choices.h>

#include <algorithm>
#include <cctype>

#include <c10/util/Exception.h>

namespace propnet {
namespace {

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

void throw_unspelled_value(int value) {
  TORCH_CHECK_VALUE(false, "expected a value of the enum's table (got the integer ", value, ")");
}

std::string closest_name(const std::string& text, const std::vector<std::string>& candidates) {
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

}  // namespace propnet
