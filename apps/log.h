#pragma once
// The CLI's logging, behind a plain std::string API. spdlog lives only in log.cpp, which is
// compiled without Torch's include folder: LibTorch 2.x ships its own fmt (v12), which Debian's
// spdlog 1.10 (built on fmt 9) cannot compile against.
#include <string>

namespace propnet::cli::log {

enum class Level { kDebug, kInfo, kWarn, kError };

/// Console logging to stderr ("error: ..."), so stdout stays clean for --json.
void init();
/// Messages below `level` are not shown on the console (a file sink gets everything).
void set_console_level(Level level);
/// Also write every message, timestamped, to `path` (appended; flushed per message); one file at a time.
void open_file(const std::string& path);
void close_file();

void write(Level level, const std::string& message);
inline void debug(const std::string& message) { write(Level::kDebug, message); }
inline void info(const std::string& message) { write(Level::kInfo, message); }
inline void warn(const std::string& message) { write(Level::kWarn, message); }
inline void error(const std::string& message) { write(Level::kError, message); }

}  // namespace propnet::cli::log
