#include <propnet/nn/relu_mask.h>

#include <c10/util/Exception.h>

#include <algorithm>
#include <numeric>
#include <ostream>

namespace propnet {

ReluMask::ReluMask(std::initializer_list<bool> keep) : ReluMask(std::vector<bool>(keep)) {}

ReluMask::ReluMask(std::vector<bool> keep) : keep_(std::move(keep)) {
  // Every module has at least one site; an empty mask would make cycle() divide by zero.
  TORCH_CHECK_VALUE(!keep_.empty(), "ReluMask: expected at least one site (got an empty mask)");
}

ReluMask ReluMask::paired(int64_t units) {
  TORCH_CHECK_VALUE(units > 0, "ReluMask: expected at least one unit (got ", units, ")");
  return ReluMask(std::vector<bool>(static_cast<size_t>(units), true));
}

ReluMask ReluMask::parse(std::string_view text) {
  std::vector<bool> keep;
  keep.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (is_mask_separator(c)) continue;
    TORCH_CHECK_VALUE(c == '0' || c == '1', "ReluMask: expected only '0' (removed) and '1' (kept) (got \"",
                      std::string(text), "\" with '", std::string(1, c), "' at position ", i, ")");
    keep.push_back(c == '1');
  }
  TORCH_CHECK_VALUE(!keep.empty(), "ReluMask: expected a string of '0' and '1' (got ",
                    text.empty() ? std::string("an empty string") : "\"" + std::string(text) + "\"", ")");
  return ReluMask(std::move(keep));
}

int64_t ReluMask::units() const noexcept { return static_cast<int64_t>(keep_.size()); }

int64_t ReluMask::relus() const noexcept {
  return static_cast<int64_t>(std::count(keep_.begin(), keep_.end(), true));
}

bool ReluMask::keeps(int64_t unit) const {
  TORCH_CHECK_INDEX(unit >= 0 && unit < units(), "ReluMask: site ", unit, " out of range for a mask of ",
                    units(), " sites");
  return keep_[static_cast<size_t>(unit)];
}

bool ReluMask::all() const noexcept { return relus() == units(); }

std::string ReluMask::ratio() const { return reduced_ratio(units(), relus()); }

std::string ReluMask::to_string() const {
  std::string text;
  text.reserve(keep_.size());
  for (bool k : keep_) text.push_back(k ? '1' : '0');
  return text;
}

ReluMask ReluMask::cycle(int64_t offset, int64_t count) const {
  TORCH_CHECK_VALUE(count > 0 && offset >= 0, "ReluMask::cycle: expected offset >= 0 and count > 0 (got ",
                    offset, ", ", count, ")");
  std::vector<bool> keep(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) keep[static_cast<size_t>(i)] = keep_[(offset + i) % keep_.size()];
  return ReluMask(std::move(keep));
}

ReluMask ReluMask::slice(int64_t offset, int64_t count) const {
  TORCH_CHECK_INDEX(offset >= 0 && count > 0 && offset + count <= units(), "ReluMask::slice: sites [", offset, ", ",
                    offset + count, ") out of range for a mask of ", units(), " sites");
  return ReluMask(std::vector<bool>(keep_.begin() + offset, keep_.begin() + offset + count));
}

ReluMask ReluMask::concat(const ReluMask& tail) const {
  std::vector<bool> keep = keep_;
  keep.insert(keep.end(), tail.keep_.begin(), tail.keep_.end());
  return ReluMask(std::move(keep));
}

bool is_mask_separator(char c) { return c == '.' || c == '_' || c == ' '; }

std::string reduced_ratio(int64_t convs, int64_t relus) {
  const int64_t divisor = relus == 0 ? std::max<int64_t>(convs, 1) : std::gcd(convs, relus);
  return std::to_string(convs / divisor) + ":" + std::to_string(relus / divisor);
}

std::ostream& operator<<(std::ostream& stream, const ReluMask& mask) {
  stream << '[';
  for (int64_t i = 0; i < mask.units(); ++i) stream << (i ? "," : "") << (mask.keeps(i) ? 1 : 0);
  return stream << ']';
}

}  // namespace propnet
