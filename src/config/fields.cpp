#include "fields.h"

#include <propnet/models/network_mask.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace propnet::config_detail {
namespace {

int64_t as_integer(const Json& v, const Where& where) {
  if (!v.is_number_integer()) fail(where, "expected an integer (got ", shown(v), ")");
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    fail(where, "expected a 64-bit integer (got ", shown(v), ")");
  }
  return v.get<int64_t>();
}

double as_number(const Json& v, const Where& where) {
  if (!v.is_number()) fail(where, "expected a number (got ", shown(v), ")");
  const double value = v.get<double>();
  if (!std::isfinite(value)) fail(where, "expected a finite number (got ", shown(v), ")");
  return value;
}

Field basic(std::string path, KeyType type, std::string allowed, std::string doc) {
  Field f;
  f.key.path = std::move(path);
  f.key.type = type;
  f.key.allowed = std::move(allowed);
  f.key.doc = std::move(doc);
  return f;
}

}  // namespace

std::string as_string(const Json& v, const Where& where) {
  if (!v.is_string()) fail(where, "expected a string (got ", shown(v), ")");
  return v.get<std::string>();
}

bool Range::contains(double v) const {
  if (lo && (lo_open ? !(v > *lo) : !(v >= *lo))) return false;
  if (hi && (hi_open ? !(v < *hi) : !(v <= *hi))) return false;
  return true;
}

std::string Range::text() const {
  if (lo && hi) {
    return "in " + std::string(lo_open ? "(" : "[") + number(*lo) + ", " + number(*hi) + (hi_open ? ")" : "]") + unit;
  }
  if (lo) return (lo_open ? "> " : ">= ") + number(*lo) + unit;
  if (hi) return (hi_open ? "< " : "<= ") + number(*hi) + unit;
  return "";
}

Range above(double lo) {
  Range r;
  r.lo = lo;
  r.lo_open = true;
  return r;
}

Range at_least(double lo) {
  Range r;
  r.lo = lo;
  return r;
}

Range between(double lo, double hi, bool lo_open, bool hi_open) {
  Range r;
  r.lo = lo;
  r.hi = hi;
  r.lo_open = lo_open;
  r.hi_open = hi_open;
  return r;
}

Field object(std::string path, std::string doc) { return basic(std::move(path), KeyType::kObject, "", std::move(doc)); }

Field text(std::string path, Member<std::string> member, std::string doc, Check<std::string> check) {
  Field f = basic(std::move(path), KeyType::kString, "", std::move(doc));
  f.string_valued = true;
  f.read = [member](ExperimentConfig& c, const Json& v, const Where& where) { member(c) = as_string(v, where); };
  f.value = [member](const ExperimentConfig& c) { return Json(get(member, c)); };
  if (check) f.check = [member, check](const ExperimentConfig& c, const Where& where) { check(get(member, c), where); };
  return f;
}

Field integer(std::string path, Member<int64_t> member, int64_t min, std::string doc) {
  Field f = basic(std::move(path), KeyType::kInteger, ">= " + std::to_string(min), std::move(doc));
  f.read = [member](ExperimentConfig& c, const Json& v, const Where& where) { member(c) = as_integer(v, where); };
  f.value = [member](const ExperimentConfig& c) { return Json(get(member, c)); };
  f.check = [member, min](const ExperimentConfig& c, const Where& where) {
    const int64_t value = get(member, c);
    if (value < min) fail(where, "expected an integer >= ", min, " (got ", value, ")");
  };
  return f;
}

Field number(std::string path, Member<double> member, Range range, std::string doc) {
  Field f = basic(std::move(path), KeyType::kNumber, range.text(), std::move(doc));
  f.read = [member](ExperimentConfig& c, const Json& v, const Where& where) { member(c) = as_number(v, where); };
  f.value = [member](const ExperimentConfig& c) { return Json(get(member, c)); };
  f.check = [member, range](const ExperimentConfig& c, const Where& where) {
    const double value = get(member, c);
    if (!range.contains(value)) fail(where, "expected ", range.what, " ", range.text(), " (got ", number(value), ")", range.hint);
  };
  return f;
}

Field boolean(std::string path, Member<bool> member, std::string doc) {
  Field f = basic(std::move(path), KeyType::kBool, "true, false", std::move(doc));
  f.read = [member](ExperimentConfig& c, const Json& v, const Where& where) {
    if (!v.is_boolean()) fail(where, "expected true or false (got ", shown(v), ")");
    member(c) = v.get<bool>();
  };
  f.value = [member](const ExperimentConfig& c) { return Json(get(member, c)); };
  return f;
}

Field bool_or_auto(std::string path, Member<std::optional<bool>> member, std::string doc) {
  Field f = basic(std::move(path), KeyType::kChoice, "true, false, \"auto\"", std::move(doc));
  f.read = [member](ExperimentConfig& c, const Json& v, const Where& where) {
    if (v.is_string() && v.get<std::string>() == "auto") {
      member(c).reset();
    } else if (v.is_boolean()) {
      member(c) = v.get<bool>();
    } else {
      fail(where, "expected true, false or \"auto\" (got ", shown(v), ")");
    }
  };
  f.value = [member](const ExperimentConfig& c) {
    const auto& value = get(member, c);
    return value ? Json(*value) : Json("auto");
  };
  return f;
}

Field device(std::string path, Member<std::optional<c10::Device>> member, std::string doc) {
  Field f = basic(std::move(path), KeyType::kString, "\"auto\", \"cpu\", \"cuda\", \"cuda:N\"", std::move(doc));
  f.string_valued = true;
  f.read = [member](ExperimentConfig& c, const Json& v, const Where& where) {
    const std::string text = as_string(v, where);
    if (text == "auto") {
      member(c).reset();
    } else if (text == "cpu") {
      member(c) = c10::Device(c10::kCPU);
    } else if (text == "cuda") {
      member(c) = c10::Device(c10::kCUDA);
    } else if (text.rfind("cuda:", 0) == 0 && text.size() > 5 && text.size() <= 8 &&
               text.find_first_not_of("0123456789", 5) == std::string::npos) {
      member(c) = c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(std::stoi(text.substr(5))));
    } else {
      fail(where, "expected \"auto\", \"cpu\", \"cuda\" or \"cuda:N\" (got ", quoted(text), ")");
    }
  };
  f.value = [member](const ExperimentConfig& c) {
    const auto& value = get(member, c);
    return Json(value ? value->str() : "auto");
  };
  f.check = [member](const ExperimentConfig& c, const Where& where) {  // library callers may build any Device
    const auto& value = get(member, c);
    if (value && !value->is_cpu() && !value->is_cuda()) {
      fail(where, "expected \"auto\", \"cpu\", \"cuda\" or \"cuda:N\" (got ", quoted(value->str()), ")");
    }
  };
  return f;
}

// A list of `element`s ("numbers", "integers" in messages), each read by `as_element`.
template <typename T>
Field list(std::string path, Member<std::vector<T>> member, std::string allowed, std::string doc,
           Check<std::vector<T>> check, const char* elements, T (*as_element)(const Json&, const Where&)) {
  Field f = basic(std::move(path), KeyType::kList, std::move(allowed), std::move(doc));
  f.read = [member, elements, as_element](ExperimentConfig& c, const Json& v, const Where& where) {
    if (!v.is_array()) fail(where, "expected a list of ", elements, " (got ", shown(v), ")");
    std::vector<T> values;
    for (size_t i = 0; i < v.size(); ++i) values.push_back(as_element(v[i], where.element(i)));
    member(c) = std::move(values);
  };
  f.value = [member](const ExperimentConfig& c) { return Json(get(member, c)); };
  f.check = [member, check](const ExperimentConfig& c, const Where& where) { check(get(member, c), where); };
  return f;
}

Field number_list(std::string path, Member<std::vector<double>> member, std::string allowed, std::string doc,
                  Check<std::vector<double>> check) {
  return list<double>(std::move(path), member, std::move(allowed), std::move(doc), std::move(check), "numbers", as_number);
}

Field integer_list(std::string path, Member<std::vector<int64_t>> member, std::string allowed, std::string doc,
                   Check<std::vector<int64_t>> check) {
  return list<int64_t>(std::move(path), member, std::move(allowed), std::move(doc), std::move(check), "integers",
                       as_integer);
}

Field network_keep_bits(std::string path, std::string doc) {
  Field f = basic(std::move(path), KeyType::kString, "", std::move(doc));
  f.string_valued = true;
  f.read = [](ExperimentConfig& c, const Json& v, const Where& where) {
    const std::string text = as_string(v, where);
    if (text.empty()) {
      c.network.mask.keep.reset();
      return;
    }
    try {
      c.network.mask.keep = ReluMask::parse(text);
    } catch (const c10::ValueError& e) {
      const std::string message = e.msg();  // "ReluMask: expected only '0' (removed) and '1' (kept) (got ... at position 3)"
      fail(where, message.substr(message.find(": ") + 2));
    }
  };
  f.value = [](const ExperimentConfig& c) { return Json(c.network.mask.keep ? models::mask_text(c.network) : ""); };
  return f;
}

Field string_list(std::string path, Member<std::vector<std::string>> member, std::string allowed, std::string doc) {
  Field f = basic(std::move(path), KeyType::kList, std::move(allowed), std::move(doc));
  f.read = [member](ExperimentConfig& c, const Json& v, const Where& where) {
    if (v.is_string()) {
      member(c) = {v.get<std::string>()};
      return;
    }
    if (!v.is_array()) fail(where, "expected a list of strings (got ", shown(v), ")");
    std::vector<std::string> values;
    for (size_t i = 0; i < v.size(); ++i) values.push_back(as_string(v[i], where.element(i)));
    member(c) = std::move(values);
  };
  f.value = [member](const ExperimentConfig& c) { return Json(get(member, c)); };
  return f;
}

Field seeds(std::string path, Member<std::vector<int64_t>> member, std::string doc) {
  Field f = basic(std::move(path), KeyType::kSeeds, "non-negative, unique integers", std::move(doc));
  f.read = [member](ExperimentConfig& c, const Json& v, const Where& where) {
    if (v.is_string()) {
      member(c) = seeds_from_text(v.get<std::string>(), where.prefix);
    } else if (v.is_number_integer()) {
      member(c) = {as_integer(v, where)};
    } else if (v.is_array()) {
      std::vector<int64_t> values;
      for (size_t i = 0; i < v.size(); ++i) values.push_back(as_integer(v[i], where.element(i)));
      member(c) = std::move(values);
    } else {
      fail(where, "expected a list of integers or a string like \"0-4\" (got ", shown(v), ")");
    }
  };
  f.value = [member](const ExperimentConfig& c) { return Json(get(member, c)); };
  f.check = [member](const ExperimentConfig& c, const Where& where) {
    const auto& values = get(member, c);
    if (values.empty()) fail(where, "expected at least one seed (got [])");
    std::vector<int64_t> seen;
    for (size_t i = 0; i < values.size(); ++i) {
      if (values[i] < 0) fail(where.element(i), "expected a non-negative seed (got ", values[i], ")");
      if (std::find(seen.begin(), seen.end(), values[i]) != seen.end()) {
        fail(where.element(i), "expected unique seeds (got ", values[i], " twice)");
      }
      seen.push_back(values[i]);
    }
  };
  return f;
}

}  // namespace propnet::config_detail
