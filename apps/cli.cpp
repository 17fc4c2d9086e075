#include "cli.h"

#include <c10/util/Exception.h>
#include <cxxopts.hpp>
#include <spdlog/spdlog.h>

namespace propnet::cli {

int run_reporting_errors(const std::string& command, const std::function<int()>& body) {
  try {
    return body();
  } catch (const UsageError& e) {
    spdlog::error("{}: {}", command, e.what());
    return kExitUsage;
  } catch (const cxxopts::exceptions::exception& e) {
    spdlog::error("{}: {} (see 'propnet {} --help')", command, e.what(), command);
    return kExitUsage;
  } catch (const c10::ValueError& e) {
    spdlog::error("{}: {}", command, e.what_without_backtrace());
    return kExitUsage;
  } catch (const c10::Error& e) {
    spdlog::error("{}: {}", command, e.what_without_backtrace());  // what() would print a backtrace in 1.13
    return kExitFailure;
  } catch (const std::exception& e) {
    spdlog::error("{}: {}", command, e.what());
    return kExitFailure;
  }
}

}  // namespace propnet::cli
