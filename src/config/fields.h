#pragma once
// The kinds of schema field (string, integer, number, choice, ...): how each reads, writes, checks
// and describes itself. The table in schema.cpp is made of these.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <propnet/choices.h>

#include "schema.h"

namespace propnet::config_detail {

template <typename T>
using Member = T& (*)(ExperimentConfig&);

/// Reads a member of a const config through its accessor (which only selects the member).
template <typename T>
const T& get(Member<T> member, const ExperimentConfig& config) {
  return member(const_cast<ExperimentConfig&>(config));
}

/// A numeric range: (lo, hi), [lo, hi], or one-sided. `text` is how docs and messages write it.
struct Range {
  std::optional<double> lo, hi;
  bool lo_open = false, hi_open = false;
  std::string what = "a number";  ///< "an accuracy"
  std::string unit;               ///< " %"
  std::string hint;               ///< After the message: "; LibTorch's convention, ..."

  bool contains(double v) const;
  std::string text() const;  ///< "> 0", ">= 0", "in [0, 1)"
};
Range above(double lo);          ///< > lo
Range at_least(double lo);       ///< >= lo
Range between(double lo, double hi, bool lo_open, bool hi_open);

/// Typed checks a field may add (lists, names, seeds); they receive the value and where it is.
template <typename T>
using Check = std::function<void(const T&, const Where&)>;

Field object(std::string path, std::string doc);
Field text(std::string path, Member<std::string> member, std::string doc, Check<std::string> check = {});
Field integer(std::string path, Member<int64_t> member, int64_t min, std::string doc);
Field number(std::string path, Member<double> member, Range range, std::string doc);
Field boolean(std::string path, Member<bool> member, std::string doc);
/// true, false or "auto" (unset).
Field bool_or_auto(std::string path, Member<std::optional<bool>> member, std::string doc);
/// "auto" (unset), "cpu", "cuda" or "cuda:N".
Field device(std::string path, Member<std::optional<c10::Device>> member, std::string doc);
Field number_list(std::string path, Member<std::vector<double>> member, std::string allowed, std::string doc,
                  Check<std::vector<double>> check);
Field integer_list(std::string path, Member<std::vector<int64_t>> member, std::string allowed, std::string doc,
                   Check<std::vector<int64_t>> check);
/// ["a", "b"], or one string for a list of one.
Field string_list(std::string path, Member<std::vector<std::string>> member, std::string allowed, std::string doc);
/// The network's keep-bits as text ("0111", "01.01.11"); "" leaves them unset (the variant counts).
Field network_keep_bits(std::string path, std::string doc);
/// [0, 1, 2], one integer, or a string "0-4", "0,2,5", "0-2,7".
Field seeds(std::string path, Member<std::vector<int64_t>> member, std::string doc);

/// Seeds from "0-4", "0,2,5" or "0-2,7"; errors start with `prefix` ("config t.json: seeds").
std::vector<int64_t> seeds_from_text(const std::string& text, const std::string& prefix);

/// The value of a JSON string, or the type error.
std::string as_string(const Json& value, const Where& where);

/// A choice among an enum's spellings (propnet/choices.h).
template <typename E>
Field choice(std::string path, Member<E> member, std::string doc) {
  Field f;
  f.key.path = std::move(path);
  f.key.type = KeyType::kChoice;
  f.key.allowed = choice_list(spelling_list<E>());
  f.key.doc = std::move(doc);
  f.string_valued = true;
  f.read = [member](ExperimentConfig& c, const Json& v, const Where& where) {
    const std::string name = as_string(v, where);
    const std::optional<E> value = from_string<E>(name);
    if (!value) not_one_of(where, spelling_list<E>(), name);
    member(c) = *value;
  };
  f.value = [member](const ExperimentConfig& c) { return Json(to_string(get(member, c))); };
  f.check = [member](const ExperimentConfig& c, const Where& where) {  // an integer cast by a library caller
    const E value = get(member, c);
    for (const auto& entry : spellings<E>()) {
      if (entry.first == value) return;
    }
    fail(where, "expected one of ", choice_list(spelling_list<E>()), " (got the integer ", static_cast<int>(value), ")");
  };
  return f;
}

}  // namespace propnet::config_detail
