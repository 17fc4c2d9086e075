// `propnet info`: what a network is (params, MACs, convs and ReLUs of one forward pass, ratio).
#include <cstdio>
#include <iostream>

#include <cxxopts.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

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
    std::cout << "\n    " << info.depth_rule.text << "; depths used: " << depths << "\n";
    for (const models::Variant& v : info.variants) {
      std::cout << fmt::format("    --variant {:<13} mask {:<5} {}\n", v.name, v.relu_mask, v.description);
    }
  }
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

}  // namespace

int info_command(int argc, char** argv) {
  return run_reporting_errors("info", [&] {
    cxxopts::Options options("propnet info", "Describe a network of the paper: parameters, MACs, and the convs and "
                                             "ReLUs one forward pass applies.");
    add_config_flags(options, network_flags());
    options.add_options()
        ("input-size", "side of the square input the counts are measured on", cxxopts::value<int64_t>()->default_value("32"))
        ("json", "print one JSON object instead of text")
        ("list", "list the networks, their ReLU sites, depth rules and named variants")
        ("h,help", "show this help");
    const auto flags = options.parse(argc, argv);
    if (flags.count("help")) {
      std::cout << options.help({"", flag_groups::kNetwork, flag_groups::kSwitches}) << "\nExample:\n  propnet info --net preresnet --depth 110 --variant proportional --json\n";
      return kExitOk;
    }
    if (flags.count("list")) {
      print_list();
      return kExitOk;
    }
    if (!flags.unmatched().empty()) throw UsageError("unexpected argument \"" + flags.unmatched().front() + "\"");
    require_network_flags(flags);
    ExperimentConfig config;
    apply_config_flags(config, flags, network_flags());
    const models::NetworkSummary summary = models::summarize(config.network, flags["input-size"].as<int64_t>());
    if (flags.count("json")) {
      std::cout << to_json(summary).dump() << "\n";
    } else {
      print_summary(summary);
    }
    return kExitOk;
  });
}

}  // namespace propnet::cli
