#pragma once
// How propnet's choice enums are spelled in configs, on the command line and in messages: one table
// per enum (src/choices.cpp), so that no other file writes "bf16" or "first-1x1" by hand.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace propnet {

enum class Amp;
enum class BatchScope;
enum class Shortcut;
enum class BottleneckStride;
enum class FinalMerge;
enum class ConvInit;
enum class SearchMethod;
enum class KeyType;
namespace models {
enum class PlainIndexing;
}
namespace data {
enum class DatasetKind;
}

/// Every value of a choice enum with its spelling, in documentation order (the first is the default
/// where the enum has one).
template <typename E>
using Spellings = std::vector<std::pair<E, std::string_view>>;

/// The spelling table of `E`; defined for the enums declared above.
template <typename E>
const Spellings<E>& spellings();

template <> const Spellings<Amp>& spellings<Amp>();
template <> const Spellings<BatchScope>& spellings<BatchScope>();
template <> const Spellings<Shortcut>& spellings<Shortcut>();
template <> const Spellings<BottleneckStride>& spellings<BottleneckStride>();
template <> const Spellings<FinalMerge>& spellings<FinalMerge>();
template <> const Spellings<ConvInit>& spellings<ConvInit>();
template <> const Spellings<SearchMethod>& spellings<SearchMethod>();
template <> const Spellings<KeyType>& spellings<KeyType>();
template <> const Spellings<models::PlainIndexing>& spellings<models::PlainIndexing>();
template <> const Spellings<data::DatasetKind>& spellings<data::DatasetKind>();

/// The spelling of `value`, e.g. "bf16" for `Amp::kBf16`. Throws c10::ValueError for a value outside
/// the enum (a cast from an integer).
template <typename E>
std::string to_string(E value);
/// The value spelled `text` (exactly, case-sensitive), or nullopt.
template <typename E>
std::optional<E> from_string(std::string_view text);
/// Every spelling of `E`, in table order: {"off", "bf16", "fp16"}.
template <typename E>
std::vector<std::string> spelling_list();

/// The candidate nearest `text` (ignoring case, '-' = '_'): one that `text` (4+ characters) begins,
/// else the closest within a few edits; "" when none is near. What "did you mean" messages offer.
std::string closest_name(const std::string& text, const std::vector<std::string>& candidates);

/// Implementation detail of `to_string`: the error for a value outside its table.
[[noreturn]] void throw_unspelled_value(int value);

template <typename E>
std::string to_string(E value) {
  for (const auto& [v, name] : spellings<E>()) {
    if (v == value) return std::string(name);
  }
  throw_unspelled_value(static_cast<int>(value));
}

template <typename E>
std::optional<E> from_string(std::string_view text) {
  for (const auto& [v, name] : spellings<E>()) {
    if (name == text) return v;
  }
  return std::nullopt;
}

template <typename E>
std::vector<std::string> spelling_list() {
  std::vector<std::string> names;
  for (const auto& entry : spellings<E>()) names.emplace_back(entry.second);
  return names;
}

}  // namespace propnet
