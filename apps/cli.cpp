#include "cli.h"

#include <unistd.h>

#include <fstream>

#include <c10/util/Exception.h>
#include <cxxopts.hpp>

#include "log.h"

namespace propnet::cli {

int run_reporting_errors(const std::string& command, const std::function<int()>& body) {
  try {
    return body();
  } catch (const UsageError& e) {
    log::error(command + ": " + std::string(e.what()));
    return kExitUsage;
  } catch (const cxxopts::exceptions::exception& e) {
    log::error(command + ": " + e.what() + " (see 'propnet " + command + " --help')");
    return kExitUsage;
  } catch (const c10::ValueError& e) {
    log::error(command + ": " + std::string(e.what_without_backtrace()));
    return kExitUsage;
  } catch (const c10::Error& e) {
    log::error(command + ": " + std::string(e.what_without_backtrace()));  // what() would print a backtrace in 1.13
    return kExitFailure;
  } catch (const std::exception& e) {
    log::error(command + ": " + std::string(e.what()));
    return kExitFailure;
  }
}

void write_file_atomically(const std::filesystem::path& path, const std::string& text) {
  const std::filesystem::path temp = path.string() + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(temp);
    out << text;
    if (!out.flush()) throw std::runtime_error("cannot write \"" + temp.string() + "\"");
  }
  std::filesystem::rename(temp, path);
}

std::optional<bool> parse_channels_last_flag(const std::string& text) {
  if (text == "on") return true;
  if (text == "off") return false;
  if (text == "auto") return std::nullopt;
  throw UsageError("--channels-last: expected on, off or auto, as --channels-last=off (got \"" + text + "\")");
}

}  // namespace propnet::cli
