#include "log.h"

#include <memory>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace propnet::cli::log {
namespace {

std::shared_ptr<spdlog::sinks::sink> console;
std::shared_ptr<spdlog::logger> logger;

spdlog::level::level_enum to_spdlog(Level level) {
  switch (level) {
    case Level::kDebug: return spdlog::level::debug;
    case Level::kInfo: return spdlog::level::info;
    case Level::kWarn: return spdlog::level::warn;
    case Level::kError: return spdlog::level::err;
  }
  return spdlog::level::info;
}

void make_logger(std::vector<spdlog::sink_ptr> sinks) {
  logger = std::make_shared<spdlog::logger>("propnet", sinks.begin(), sinks.end());
  logger->set_level(spdlog::level::debug);
  logger->flush_on(spdlog::level::debug);  // train.log is read while a run goes on (tail -f, tests)
}

}  // namespace

void init() {
  if (logger) return;
  console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  console->set_pattern("%^%l%$: %v");
  console->set_level(spdlog::level::info);
  make_logger({console});
}

void set_console_level(Level level) {
  init();
  console->set_level(to_spdlog(level));
}

void open_file(const std::string& path) {
  init();
  auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, /*truncate=*/false);
  file->set_pattern("[%Y-%m-%d %H:%M:%S] %l: %v");
  make_logger({console, file});
}

void close_file() {
  init();
  logger->flush();
  make_logger({console});
}

void write(Level level, const std::string& message) {
  init();
  logger->log(to_spdlog(level), "{}", message);
}

}  // namespace propnet::cli::log
