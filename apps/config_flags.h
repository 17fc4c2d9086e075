#pragma once
// The flags that set config keys, made from the schema (propnet::config_keys): `--lr 0.05` is
// train.lr. `train`, `bench` and `info` take the groups or flags they need.
#include <string>
#include <vector>

#include <cxxopts.hpp>

#include <propnet/config.h>

namespace propnet::cli {

/// The --help sections of the flags that set config keys, one per `FlagGroup`.
namespace flag_groups {
inline constexpr const char* kNetwork = "Network";
inline constexpr const char* kSwitches = "Architecture switches (spec section 10; defaults are the spec's)";
inline constexpr const char* kExperiment = "Experiment";
inline constexpr const char* kData = "Data";
inline constexpr const char* kTraining = "Training";
inline constexpr const char* kSearch = "Search";
}  // namespace flag_groups

/// The --help section of a group of flags: one of `flag_groups`.
const char* help_section(FlagGroup group);

/// Which of the schema's flags a command takes: whole help groups, plus single flags by name.
struct FlagSelection {
  std::vector<std::string> groups;  ///< Help sections: `flag_groups`
  std::vector<std::string> flags;   ///< "batch-size", ...
  bool contains(const ConfigFlag& flag) const;
};

/// Adds the selected flags to `options`, each under its group.
void add_config_flags(cxxopts::Options& options, const FlagSelection& selection);

/// Applies the selected flags given on the command line to `config`, in schema order (so that, as
/// with --set, a new data set moves the class count along). Throws c10::ValueError naming the flag,
/// and UsageError for --variant with --relu-mask.
void apply_config_flags(ExperimentConfig& config, const cxxopts::ParseResult& flags, const FlagSelection& selection);

/// The network flags (--net, --depth, --variant, ... and the architecture switches).
FlagSelection network_flags();
/// Throws UsageError unless --net and --depth are given (commands without --config need both).
void require_network_flags(const cxxopts::ParseResult& flags);

}  // namespace propnet::cli
