#include "cli.h"

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

}  // namespace propnet::cli
