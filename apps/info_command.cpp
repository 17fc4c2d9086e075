// `propnet info`: what a network is (params, MACs, convs and ReLUs of one forward pass, ratio).
#include <cstdio>
#include <iostream>

#include <cxxopts.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <propnet/choices.h>
#include <propnet/config.h>
#include <propnet/models/registry.h>
#include <propnet/models/summary.h>

#include "cli.h"
#include "config_flags.h"

namespace propnet::cli {
namespace {

std::string thousands(int64_t value) {
  std::string digits = std::to_string(value), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

void print_list() {
  for (const models::NetworkInfo& info : models::networks()) {
    std::string depths;
    for (int64_t d : info.paper_depths) depths += (depths.empty() ? "" : ", ") + std::to_string(d);
    std::cout << info.name << "  (" << info.summary << ")\n"
              << "    block " << info.block << ", ReLU sites: ";
    for (size_t i = 0; i < info.sites.size(); ++i) std::cout << (i ? ", " : "") << info.sites[i];
    if (info.cyclic_mask) std::cout << " (one per conv after the stem; the mask repeats cyclically)";
    if (!info.last_unit_sites.empty()) {
      std::cout << "; the last unit's: ";
      for (size_t i = 0; i < info.last_unit_sites.size(); ++i) std::cout << (i ? ", " : "") << info.last_unit_sites[i];
    }
    std::cout << "\n    " << info.depth_rule.text << "; depths used: " << depths << "\n";
    for (const models::Variant& v : info.variants) {
      std::cout << fmt::format("    --variant {:<13} mask {:<5} {}\n", v.name, v.relu_mask, v.description);
    }
  }
}

// The per-stage and whole-network ReLU accounting of `info --sites`.
struct StageSites {
  std::string name;  // "stage1", or "stem / head" for the fixed sites outside the stages
  int64_t convs = 0, sites = 0, kept = 0, elements = 0, kept_elements = 0;
};

std::vector<StageSites> stage_sites(const models::NetworkSummary& s) {
  std::vector<StageSites> stages(4);
  for (int i = 0; i < 3; ++i) {
    stages[i].name = "stage" + std::to_string(i + 1);
    stages[i].convs = s.stage_convs[i];
  }
  stages[3].name = "stem, head";
  for (const models::ReluSite& site : s.sites) {
    StageSites& st = site.stage >= 1 && site.stage <= 3 ? stages[site.stage - 1] : stages[3];
    st.elements += site.elements();
    if (site.kept) st.kept_elements += site.elements();
    if (site.fixed) continue;
    ++st.sites;
    if (site.kept) ++st.kept;
  }
  return stages;
}

std::string kilo(int64_t elements) { return fmt::format("{:.1f}K", elements / 1000.0); }

nlohmann::json sites_json(const models::NetworkSummary& s) {
  nlohmann::json sites = nlohmann::json::array(), stages = nlohmann::json::array();
  for (const models::ReluSite& site : s.sites) {
    sites.push_back({{"name", site.name}, {"stage", site.stage}, {"unit", site.unit}, {"index", site.index},
                     {"mask_bit", site.mask_bit}, {"channels", site.channels}, {"height", site.height},
                     {"width", site.width}, {"elements", site.elements()}, {"kept", site.kept}, {"fixed", site.fixed}});
  }
  int64_t kept = 0, all = 0;
  for (const StageSites& st : stage_sites(s)) {
    nlohmann::json entry{{"name", st.name}, {"sites", st.sites}, {"kept", st.kept}, {"relu_elements", st.kept_elements},
                         {"relu_elements_paired", st.elements}};
    if (st.convs > 0) {
      entry["convs"] = st.convs;
      entry["ratio"] = reduced_ratio(st.convs, st.kept);
    }
    stages.push_back(entry);
    kept += st.kept_elements;
    all += st.elements;
  }
  return {{"sites", sites}, {"stages", stages}, {"relu_elements", kept}, {"relu_elements_paired", all}};
}

void print_sites(const models::NetworkSummary& s) {
  std::cout << fmt::format("\n{:<28} {:>5} {:>4} {:>4} {:>8} {:>7} {:>9}  {}\n", "site", "stage", "unit", "bit",
                           "channels", "HxW", "elements", "ReLU");
  for (const models::ReluSite& site : s.sites) {
    const std::string unit = site.unit < 0 ? "-" : std::to_string(site.unit);
    const std::string bit = site.mask_bit < 0 ? "-" : std::to_string(site.mask_bit);
    std::cout << fmt::format("{:<28} {:>5} {:>4} {:>4} {:>8} {:>7} {:>9}  {}\n", site.name, site.stage, unit, bit,
                             site.channels, fmt::format("{}x{}", site.height, site.width), thousands(site.elements()),
                             site.fixed ? "fixed" : site.kept ? "kept" : "removed");
  }
  std::cout << fmt::format("\n{:<12} {:>6} {:>11} {:>10} {:>22}\n", "", "convs", "sites kept", "conv:ReLU",
                           "ReLU elements kept");
  int64_t kept = 0, all = 0;
  for (const StageSites& st : stage_sites(s)) {
    kept += st.kept_elements;
    all += st.elements;
    if (st.convs == 0 && st.elements == 0) continue;
    std::cout << fmt::format("{:<12} {:>6} {:>11} {:>10} {:>22}\n", st.name, st.convs > 0 ? std::to_string(st.convs) : "",
                             st.convs > 0 ? fmt::format("{} / {}", st.kept, st.sites) : "fixed",
                             st.convs > 0 ? reduced_ratio(st.convs, st.kept) : "",
                             fmt::format("{} / {}", thousands(st.kept_elements), thousands(st.elements)));
  }
  std::cout << fmt::format("ReLU elements per image (stem and head included): {} of {} ({:.1f} %), {} ReLUs\n", thousands(kept), thousands(all),
                           all > 0 ? 100.0 * kept / all : 0.0, kilo(kept));
}

nlohmann::json to_json(const models::NetworkSummary& s) {
  return {{"net", s.arch},       {"depth", s.depth},   {"variant", s.variant},
          {"relu_mask", s.relu_mask}, {"classes", s.num_classes}, {"in_channels", s.in_channels},
          {"params", s.params},  {"macs", s.macs},     {"convs", s.convs},
          {"relus", s.relus},    {"ratio", s.ratio},   {"input_size", s.input_size},
          {"blocks_per_stage", {s.blocks_per_stage[0], s.blocks_per_stage[1], s.blocks_per_stage[2]}}};
}

void print_summary(const models::NetworkSummary& s) {
  const models::NetworkInfo& info = models::network_info(s.arch);
  std::cout << fmt::format("network     {}-{}  ({})\n", s.arch, s.depth, info.summary)
            << fmt::format("variant     {}  relu_mask {}  conv:ReLU {}  (block {})\n", s.variant, s.relu_mask,
                           s.ratio, info.block)
            << fmt::format("input       {}x{}x{}, {} classes\n", s.in_channels, s.input_size, s.input_size,
                           s.num_classes)
            << fmt::format("blocks      {} / {} / {} per stage\n", s.blocks_per_stage[0], s.blocks_per_stage[1],
                           s.blocks_per_stage[2])
            << fmt::format("params      {}\n", thousands(s.params))
            << fmt::format("MACs        {} per image ({:.1f} M)\n", thousands(s.macs), s.macs / 1e6)
            << fmt::format("forward     {} convs, {} ReLUs applied\n", s.convs, s.relus);
}

// The network flags and --dataset, whose classes and channels (data::dataset_facts) the network then takes
// unless --classes or --in-channels say otherwise.
FlagSelection info_flags() {
  FlagSelection selection = network_flags();
  selection.flags = {"dataset"};
  return selection;
}

// The config schema (config_keys()) as text or JSON: its one home, which the toolkit (scripts/lab) and
// configs/README.md's check read instead of restating defaults.
void print_schema(bool json) {
  nlohmann::json rows = nlohmann::json::array();
  for (const ConfigKey& key : config_keys()) {
    nlohmann::json row{{"key", key.path}, {"type", to_string(key.type)}, {"allowed", key.allowed}, {"doc", key.doc},
                       {"changes_results", key.changes_results}};
    row["default"] = key.default_json.empty() ? nlohmann::json() : nlohmann::json::parse(key.default_json);
    row["required"] = key.default_json.empty() && key.type != KeyType::kObject;
    row["flag"] = key.flag.name.empty() ? "" : "--" + key.flag.name;
    rows.push_back(std::move(row));
  }
  if (json) {
    std::cout << rows.dump() << "\n";
    return;
  }
  for (const auto& r : rows) {
    if (r["type"] == "object") continue;
    std::cout << fmt::format("{:<28} {:<8} default {:<14} {}{}\n", r["key"].get<std::string>(),
                             r["type"].get<std::string>(), r["required"].get<bool>() ? "(required)" : r["default"].dump(),
                             r["doc"].get<std::string>(),
                             r["flag"].get<std::string>().empty() ? "" : " [" + r["flag"].get<std::string>() + "]");
  }
}

}  // namespace

int info_command(int argc, char** argv) {
  return run_reporting_errors("info", [&] {
    cxxopts::Options options("propnet info", "Describe a network of the paper: parameters, MACs, and the convs and "
                                             "ReLUs one forward pass applies.");
    add_config_flags(options, info_flags());
    options.add_options()
        ("input-size", "side of the square input the counts are measured on", cxxopts::value<int64_t>()->default_value("32"))
        ("json", "print one JSON object instead of text")
        ("sites", "also list every ReLU site instance (name, channels, size, ReLU elements, kept or not) and the per-stage conv:ReLU ratios")
        ("list", "list the networks, their ReLU sites, depth rules and named variants")
        ("schema", "list every config key: type, default, allowed values, doc and flag (--json: for tools)")
        ("h,help", "show this help");
    const auto flags = parse_flags(options, argc, argv);
    if (flags.count("help")) {
      std::cout << options.help({"", flag_groups::kNetwork, flag_groups::kData, flag_groups::kSwitches}) << "\nExamples:\n  propnet info --net preresnet --depth 110 --variant proportional --json\n"
                   "  propnet info --net preresnet --depth 20 --variant proportional --relu-drop 'stage3.*' --sites\n"
                   "  propnet info --net plain --depth 20 --dataset fashion-mnist --sites\n"
                   "  propnet info --schema --json\n";
      return kExitOk;
    }
    if (flags.count("list")) {
      print_list();
      return kExitOk;
    }
    if (flags.count("schema")) {
      print_schema(flags.count("json") > 0);
      return kExitOk;
    }
    if (!flags.unmatched().empty()) throw UsageError("unexpected argument \"" + flags.unmatched().front() + "\"");
    require_network_flags(flags);
    ExperimentConfig config;
    apply_config_flags(config, flags, info_flags());
    const models::NetworkSummary summary = models::summarize(config.network, flags["input-size"].as<int64_t>());
    const bool sites = flags.count("sites") > 0;
    if (flags.count("json")) {
      nlohmann::json json = to_json(summary);
      if (sites) json.update(sites_json(summary));
      std::cout << json.dump() << "\n";
    } else {
      print_summary(summary);
      if (sites) print_sites(summary);
    }
    return kExitOk;
  });
}

}  // namespace propnet::cli
