#include <propnet/models/network_mask.h>

#include <fnmatch.h>

#include <c10/util/Exception.h>

#include <propnet/models/registry.h>
#include <propnet/nn/merge_and_run.h>
#include "../nn/layers.h"

namespace propnet::models {
namespace {

// One unit of the network as the mask sees it: a residual unit, or one conv of the plain net.
struct Unit {
  int stage;                             // 1-based
  int64_t index;                         // within its stage
  const std::vector<std::string>* sites;
};

std::vector<Unit> units_of(const NetworkSpec& spec) {
  const NetworkInfo& info = network_info(spec.arch);
  const StageBlocks blocks = stage_blocks(spec);
  std::vector<Unit> units;
  for (int stage = 0; stage < 3; ++stage) {
    for (int64_t i = 0; i < blocks[stage]; ++i) units.push_back({stage + 1, i, &info.sites});
  }
  if (!info.last_unit_sites.empty()) units.back().sites = &info.last_unit_sites;
  return units;
}

int64_t site_count(const std::vector<Unit>& units) {
  int64_t n = 0;
  for (const Unit& u : units) n += static_cast<int64_t>(u.sites->size());
  return n;
}

std::string network_label(const NetworkSpec& spec) { return spec.arch + "-" + std::to_string(spec.depth); }

// The block pattern `pattern` on every unit (plain: cyclically over the convs, numbered as plain_indexing says).
ReluMask expand(const NetworkSpec& spec, const std::vector<Unit>& units, const ReluMask& pattern) {
  const NetworkInfo& info = network_info(spec.arch);
  std::vector<bool> keep;
  int64_t conv = 0;
  for (const Unit& u : units) {
    if (info.cyclic_mask) {
      const int64_t number = spec.options.plain_indexing == PlainIndexing::kGlobal ? conv++ : u.index;
      keep.push_back(pattern.keeps(number % pattern.units()));
      continue;
    }
    const ReluMask unit_mask = u.sites == &info.sites ? pattern : MergeAndRunImpl::merged_mask(pattern);
    for (int64_t i = 0; i < unit_mask.units(); ++i) keep.push_back(unit_mask.keeps(i));
  }
  return ReluMask(std::move(keep));
}

// The bits of the variant `spec.mask` names.
ReluMask variant_pattern(const NetworkSpec& spec) {
  const NetworkInfo& info = network_info(spec.arch);
  std::string names;
  for (const Variant& v : info.variants) {
    if (v.name == spec.mask.variant) return ReluMask::parse(v.relu_mask);
    names += (names.empty() ? "" : ", ") + v.name;
  }
  TORCH_CHECK_VALUE(false, info.name, ": unknown variant \"", spec.mask.variant, "\"; expected one of: ", names,
                    " (or an explicit --relu-mask)");
}

// The mask before selectors: keep-bits of a whole network as they are, else the block pattern expanded.
ReluMask base_mask(const NetworkSpec& spec, const std::vector<Unit>& units) {
  if (!spec.mask.keep) return expand(spec, units, variant_pattern(spec));
  const ReluMask& given = *spec.mask.keep;
  const NetworkInfo& info = network_info(spec.arch);
  const int64_t sites = site_count(units), per_unit = static_cast<int64_t>(info.sites.size());
  const int64_t length = given.units();
  TORCH_CHECK_VALUE(info.cyclic_mask || length == per_unit || length == sites, info.name, ": expected a relu_mask of ",
                    per_unit, " characters '0' (removed) or '1' (kept) over the ", info.block, " sites ",
                    propnet::detail::join_sites(info.sites), ", repeated over every unit, or ", sites,
                    " characters, one per site instance of ", network_label(spec), " (got \"", given.to_string(), "\")");
  return length == sites ? given : expand(spec, units, given);
}

bool matches(const std::string& pattern, const std::string& name) {
  return fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
}

}  // namespace

std::vector<std::string> site_names(const NetworkSpec& spec) {
  std::vector<std::string> names;
  for (const Unit& u : units_of(spec)) {
    const std::string unit = "stage" + std::to_string(u.stage) + "." + std::to_string(u.index) + ".";
    for (const std::string& site : *u.sites) names.push_back(unit + site);
  }
  return names;
}

ReluMask resolve_network_mask(const NetworkSpec& spec) {
  const std::vector<Unit> units = units_of(spec);
  const ReluMask base = base_mask(spec, units);
  if (spec.mask.drop.empty()) return base;
  const std::vector<std::string> names = site_names(spec);
  std::vector<bool> keep(names.size());
  for (size_t i = 0; i < names.size(); ++i) keep[i] = base.keeps(static_cast<int64_t>(i));
  for (const std::string& pattern : spec.mask.drop) {
    bool matched = false;
    for (size_t i = 0; i < names.size(); ++i) {
      if (!matches(pattern, names[i])) continue;
      keep[i] = false;
      matched = true;
    }
    TORCH_CHECK_VALUE(matched, "relu_drop \"", pattern, "\" matches no site of ", network_label(spec),
                      "; its sites are named like \"", names.front(), "\" (propnet info --sites lists them; the stem's "
                      "and head's ReLUs are fixed)");
  }
  return ReluMask(std::move(keep));
}

std::string format_network_mask(const NetworkSpec& spec, const ReluMask& mask) {
  const bool plain = network_info(spec.arch).cyclic_mask;
  std::string text;
  int64_t bit = 0;
  int previous_stage = 0;
  for (const Unit& u : units_of(spec)) {
    if (bit > 0 && (!plain || u.stage != previous_stage)) text += '.';
    for (size_t i = 0; i < u.sites->size(); ++i) text += mask.keeps(bit++) ? '1' : '0';
    previous_stage = u.stage;
  }
  return text;
}

std::string mask_text(const NetworkSpec& spec) {
  if (!spec.mask.keep) return spec.mask.variant;
  const ReluMask& keep = *spec.mask.keep;
  try {
    if (keep.units() == site_count(units_of(spec))) return format_network_mask(spec, keep);
  } catch (const c10::Error&) {
    // An unknown network or a bad depth (refused elsewhere, naming its key): no units to put dots between.
  }
  return keep.to_string();
}

NetworkSpec with_resolved_mask(NetworkSpec spec) {
  if (spec.mask.drop.empty()) return spec;
  spec.mask.keep = resolve_network_mask(spec);
  return spec;
}

MaskDescription describe_mask(const NetworkSpec& spec) {
  const NetworkInfo& info = network_info(spec.arch);
  const std::vector<Unit> units = units_of(spec);
  const ReluMask mask = resolve_network_mask(spec);
  for (const Variant& v : info.variants) {
    const ReluMask pattern = ReluMask::parse(v.relu_mask);
    if (expand(spec, units, pattern) == mask) return {v.name, v.relu_mask, pattern.ratio()};
  }
  if (spec.mask.drop.empty() && spec.mask.keep && spec.mask.keep->units() != site_count(units)) {
    return {"custom", spec.mask.keep->to_string(), spec.mask.keep->ratio()};
  }
  return {"custom", format_network_mask(spec, mask), mask.ratio()};
}

NetworkMask NetworkMask::named(std::string variant) {
  NetworkMask mask;
  mask.variant = std::move(variant);
  return mask;
}

NetworkMask NetworkMask::bits(ReluMask keep) {
  NetworkMask mask;
  mask.keep = std::move(keep);
  return mask;
}

NetworkMask NetworkMask::bits(std::string_view text) { return bits(ReluMask::parse(text)); }

bool NetworkMask::operator==(const NetworkMask& other) const {
  return variant == other.variant && keep == other.keep && drop == other.drop;
}

}  // namespace propnet::models
