#include "config_flags.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "cli.h"

namespace propnet::cli {

const char* help_section(FlagGroup group) {
  switch (group) {
    case FlagGroup::kNetwork: return flag_groups::kNetwork;
    case FlagGroup::kSwitches: return flag_groups::kSwitches;
    case FlagGroup::kExperiment: return flag_groups::kExperiment;
    case FlagGroup::kData: return flag_groups::kData;
    case FlagGroup::kTraining: return flag_groups::kTraining;
    case FlagGroup::kSearch: return flag_groups::kSearch;
  }
  return flag_groups::kNetwork;
}

bool FlagSelection::contains(const ConfigFlag& flag) const {
  if (flag.name.empty()) return false;
  return std::find(groups.begin(), groups.end(), help_section(flag.group)) != groups.end() ||
         std::find(flags.begin(), flags.end(), flag.name) != flags.end();
}

void add_config_flags(cxxopts::Options& options, const FlagSelection& selection) {
  for (const ConfigKey& key : config_keys()) {
    const ConfigFlag& flag = key.flag;
    if (!selection.contains(flag)) continue;
    if (!flag.takes_value) {
      options.add_options(help_section(flag.group))(flag.name, flag.help);
    } else if (flag.repeatable) {
      options.add_options(help_section(flag.group))(flag.name, flag.help, cxxopts::value<std::vector<std::string>>());
    } else if (!flag.implicit_value.empty()) {
      options.add_options(help_section(flag.group))(flag.name, flag.help, cxxopts::value<std::string>()->implicit_value(flag.implicit_value));
    } else {
      options.add_options(help_section(flag.group))(flag.name, flag.help, cxxopts::value<std::string>());
    }
  }
}

void apply_config_flags(ExperimentConfig& config, const cxxopts::ParseResult& flags, const FlagSelection& selection) {
  if (flags.count("variant") && flags.count("relu-mask")) throw UsageError("--variant and --relu-mask are exclusive; give one");
  if (flags.count("relu-mask-file") && (flags.count("relu-mask") || flags.count("variant"))) {
    throw UsageError("--relu-mask-file replaces --variant and --relu-mask; give one");
  }
  for (const ConfigKey& key : config_keys()) {
    const ConfigFlag& flag = key.flag;
    if (!selection.contains(flag) || !flags.count(flag.name)) continue;
    if (flag.repeatable) {  // every use adds to the list: pass them as one JSON list
      apply_flag(config, flag.name, nlohmann::json(flags[flag.name].as<std::vector<std::string>>()).dump());
      continue;
    }
    apply_flag(config, flag.name, flag.takes_value ? flags[flag.name].as<std::string>() : "");
  }
}

FlagSelection network_flags() { return {{flag_groups::kNetwork, flag_groups::kSwitches}, {}}; }

void require_network_flags(const cxxopts::ParseResult& flags) {
  if (!flags.count("net")) throw UsageError("--net is required ('propnet info --list' lists the networks and their depths)");
  if (!flags.count("depth")) throw UsageError("--depth is required ('propnet info --list' gives each network's depth rule)");
}

}  // namespace propnet::cli
