#pragma once
// What `propnet train` and `propnet search` share before their loops: the resolved config, the
// data on the device, the resume command and the run line's device notes.
#include <string>

#include <c10/core/Device.h>
#include <cxxopts.hpp>

#include <propnet/config.h>
#include <propnet/data/dataset.h>
#include <propnet/dist/launch.h>

#include "config_flags.h"
#include "progress.h"

namespace propnet::cli {

/// The flags of a command that runs seeds into a run folder (train, search): --config, --set, --resume,
/// --restart, then the selected config flags, then --dist-timeout, -q, -v, -h under Training.
void add_run_flags(cxxopts::Options& options, const FlagSelection& selection, const std::string& config_help,
                   const std::string& set_example);
/// After parsing: UsageError for a stray argument or --resume with --restart.
void check_run_flags(const cxxopts::ParseResult& flags);
/// With --print-config: prints `config` as JSON with "name" set to `folder` (the run folder's name) and returns
/// true, so the command exits before reading data; tools resolve seeds and folders this way.
bool print_config_if_asked(const cxxopts::ParseResult& flags, ExperimentConfig config, const std::string& folder);
/// -q / -v, else normal.
Verbosity verbosity_of(const cxxopts::ParseResult& flags);
/// --dist-timeout in seconds (default 600); UsageError unless > 0.
double dist_timeout_of(const cxxopts::ParseResult& flags);

/// Defaults, then the config file (--config), then --set in order, then the selected flags; checked
/// with `validate`. Without --config, --net and --depth are required (UsageError naming `command`).
/// The network records the mask a mask file or --relu-drop resolved to (config.json keeps it).
ExperimentConfig resolve_config(const cxxopts::ParseResult& flags, const FlagSelection& selection,
                                const std::string& command);

/// UsageError for what a data-parallel launch cannot run (CUDA graphs: the gradient all-reduce is eager).
void check_launch(const ExperimentConfig& config, const dist::LaunchEnv& launch);

/// The config's data set from its folder (or the data set's default one) on `device`, checked
/// against the network's classes and channels. UsageError when CIFAR has no --data-dir. test_split false: the
/// test split is neither read nor required (what a search needs).
data::Dataset load_experiment_data(const ExperimentConfig& config, const c10::Device& device, bool test_split = true);

/// The command line that resumes this run, quoted for a shell: "propnet <command> --net ...".
std::string shell_command(const std::string& command, int argc, char** argv);

/// " (2 threads, channels_last)": what the device runs that changes speed, not results; "" if nothing.
std::string device_notes(const ExperimentConfig& config, const c10::Device& device, int64_t threads);

/// One warning line when `spec` runs bf16 on a CPU without bf16 units (it runs, likely much slower
/// than fp32); nothing otherwise. train, search and bench call it once, before the work.
void warn_about_cpu_precision(const TrainSpec& spec, const c10::Device& device);

}  // namespace propnet::cli
