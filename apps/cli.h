#pragma once
// Shared plumbing of the `propnet` subcommands: exit codes and error reporting.
#include <functional>
#include <stdexcept>
#include <string>

#include <cxxopts.hpp>

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

/// `options.parse` with messages for people: an unknown flag names the nearest one ("unknown flag
/// --varaint; did you mean --variant?"), cxxopts' curly quotes become plain ones, and a single-valued
/// flag given twice is refused with both values. Throws UsageError.
cxxopts::ParseResult parse_flags(cxxopts::Options& options, int argc, char** argv);

/// Subcommands; each parses its own flags from argv[1..] (argv[0] is "propnet <command>").
int info_command(int argc, char** argv);
int data_command(int argc, char** argv);
int train_command(int argc, char** argv);
int eval_command(int argc, char** argv);
int bench_command(int argc, char** argv);
int search_command(int argc, char** argv);

}  // namespace propnet::cli
