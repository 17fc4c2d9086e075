#include "progress.h"

#include <chrono>
#include <cstdio>
#include <unistd.h>

#include <fmt/format.h>

#include "log.h"

namespace propnet::cli {
namespace {

constexpr double kPlainLogSeconds = 30;  // without a terminal, one progress line at most this often

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

std::string format_duration(double seconds) {
  const auto s = static_cast<int64_t>(seconds + 0.5);
  if (s >= 3600) return fmt::format("{}h{:02d}m", s / 3600, (s % 3600) / 60);
  if (s >= 60) return fmt::format("{}m{:02d}s", s / 60, s % 60);
  return fmt::format("{}s", s);
}

ProgressReporter::ProgressReporter(Verbosity verbosity)
    : verbosity_(verbosity), live_(isatty(STDERR_FILENO) == 1 && verbosity != Verbosity::kQuiet) {
  log::set_console_level(verbosity == Verbosity::kQuiet     ? log::Level::kWarn
                         : verbosity == Verbosity::kVerbose ? log::Level::kDebug
                                                            : log::Level::kInfo);
}

void ProgressReporter::begin_seed(const std::filesystem::path& log_file) {
  log::open_file(log_file.string());
  last_log_ = -1e9;
}

void ProgressReporter::clear_live_line() {
  if (live_shown_) {
    std::fputs("\r\033[K", stderr);
    live_shown_ = false;
  }
}

void ProgressReporter::progress(const train::StepProgress& p) {
  const std::string line =
      fmt::format("epoch {}/{}  step {}/{}  lr {:g}  loss {:.4f}  acc {:.2f}%  {:.0f} img/s  ETA {}", p.epoch, p.epochs,
                  p.step, p.steps, p.lr, p.loss, p.accuracy, p.images_per_s, format_duration(p.eta_seconds));
  const bool plain_line = !live_ && verbosity_ == Verbosity::kNormal && now_seconds() - last_log_ >= kPlainLogSeconds;
  if (plain_line) {
    log::info(line);
    last_log_ = now_seconds();
  } else {
    log::debug(line);  // every reading goes to train.log (and to the console with --verbose)
  }
  if (live_ && verbosity_ != Verbosity::kVerbose) {
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    std::fflush(stderr);
    live_shown_ = true;
  }
}

void ProgressReporter::epoch(const train::EpochMetrics& m, int64_t epochs) {
  clear_live_line();
  const std::string val = m.has_val ? fmt::format("  val loss {:.4f} acc {:.2f}%", m.val_loss, m.val_acc) : "";
  const std::string test = m.has_test ? fmt::format("  test loss {:.4f} acc {:.2f}%", m.test_loss, m.test_acc) : "";
  const std::string lr = m.lr_start != m.lr ? fmt::format("{:g} -> {:g}", m.lr_start, m.lr) : fmt::format("{:g}", m.lr);
  log::info(fmt::format("epoch {}/{}  lr {}  train loss {:.4f} acc {:.2f}%{}{}  {}  {:.0f} img/s", m.epoch, epochs,
                        lr, m.train_loss, m.train_acc, val, test, format_duration(m.seconds), m.images_per_s));
}

void ProgressReporter::message(const std::string& text) {
  clear_live_line();
  log::info(text);
}

void ProgressReporter::warn(const std::string& text) {
  clear_live_line();
  log::warn(text);
}

void ProgressReporter::end_seed() {
  clear_live_line();
  log::close_file();
}

}  // namespace propnet::cli
