#pragma once
// How a training run shows itself: a live line on a terminal, periodic log lines otherwise,
// and a train.log per seed.
#include <filesystem>
#include <string>

#include <propnet/train/results.h>

namespace propnet::cli {

enum class Verbosity { kQuiet, kNormal, kVerbose };

class ProgressReporter {
 public:
  explicit ProgressReporter(Verbosity verbosity);

  /// Starts logging for one seed: console plus `<seed dir>/train.log` (appended across resumes).
  void begin_seed(const std::filesystem::path& log_file);
  void progress(const train::StepProgress& p);
  void epoch(const train::EpochMetrics& m, int64_t epochs);
  void message(const std::string& text);
  void warn(const std::string& text);
  /// Ends the live line, if any, and closes train.log.
  void end_seed();

 private:
  void clear_live_line();

  Verbosity verbosity_;
  bool live_;                 // stderr is a terminal
  bool live_shown_ = false;
  double last_log_ = -1e9;    // seconds, for rate-limited plain progress lines
};

/// "1h02m", "3m12s", "45s".
std::string format_duration(double seconds);

}  // namespace propnet::cli
