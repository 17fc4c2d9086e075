#pragma once
// Shared plumbing of the `propnet` subcommands: exit codes and error reporting.
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

namespace propnet::cli {

/// Exit codes of every subcommand.
constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;  ///< Runtime failure (I/O, numerics, ...).
constexpr int kExitUsage = 2;    ///< Bad flags, config or values; nothing was run.

/// A usage error found by propnet itself (conflicting flags, ...): exit code 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Runs `body`, turning every exception into one line on stderr (never a C++ backtrace) and an
/// exit code: 2 for usage and value errors, 1 for everything else.
int run_reporting_errors(const std::string& command, const std::function<int()>& body);

/// Writes `text` to `path` through a temp file named after this process, then renames it: readers
/// never see a torn file, and processes that share a run folder (one per seed) never share a temp file.
void write_file_atomically(const std::filesystem::path& path, const std::string& text);

/// Help of --channels-last[=on|off|auto] (train and bench), and its parser: nullopt for auto.
inline constexpr const char* kChannelsLastHelp =
    "NHWC parameters and inputs: on (the bare flag), off, or auto (the default: on for the CPU where the "
    "fused BN+ReLU kernels run, off elsewhere)";
std::optional<bool> parse_channels_last_flag(const std::string& text);

/// Subcommands; each parses its own flags from argv[1..] (argv[0] is "propnet <command>").
int info_command(int argc, char** argv);
int data_command(int argc, char** argv);
int train_command(int argc, char** argv);
int eval_command(int argc, char** argv);
int bench_command(int argc, char** argv);

}  // namespace propnet::cli
