#include "cli.h"

#include <map>
#include <vector>

#include <c10/util/Exception.h>

#include <propnet/choices.h>

#include "log.h"

namespace propnet::cli {
namespace {

// cxxopts quotes names with ‘ and ’; messages here use plain double quotes.
std::string plain_quotes(std::string text) {
  for (const char* curly : {"\u2018", "\u2019"}) {
    for (size_t at = text.find(curly); at != std::string::npos; at = text.find(curly)) text.replace(at, 3, "\"");
  }
  return text;
}

// Every flag of `options` by long name, with whether it may be given more than once.
std::map<std::string, bool> known_flags(const cxxopts::Options& options) {
  std::map<std::string, bool> flags;
  for (const std::string& group : options.groups()) {
    for (const cxxopts::HelpOptionDetails& o : options.group_help(group).options) {
      for (const std::string& name : o.l) flags[name] = o.is_container || o.is_boolean;
    }
  }
  return flags;
}

[[noreturn]] void unknown_flag(const std::string& message, const cxxopts::Options& options) {
  const std::string text = plain_quotes(message);  // Option "varaint" does not exist
  const size_t open = text.find('"'), close = text.find('"', open + 1);
  const std::string name = open == std::string::npos ? "" : text.substr(open + 1, close - open - 1);
  std::vector<std::string> names;
  for (const auto& [flag, repeatable] : known_flags(options)) names.push_back(flag);
  const std::string near = closest_name(name, names);
  const std::string hint = !near.empty()    ? "; did you mean --" + near + "?"
                           : name == "list" ? "; 'propnet info --list' lists the networks, depths and variants"
                                            : "";
  throw UsageError("unknown flag " + std::string(name.size() == 1 ? "-" : "--") + name + hint + " (see '" +
                   options.program() + " --help')");
}

}  // namespace

cxxopts::ParseResult parse_flags(cxxopts::Options& options, int argc, char** argv) {
  cxxopts::ParseResult flags;
  try {
    flags = options.parse(argc, argv);
  } catch (const cxxopts::exceptions::no_such_option& e) {
    unknown_flag(e.what(), options);
  } catch (const cxxopts::exceptions::exception& e) {
    throw UsageError(plain_quotes(e.what()) + " (see '" + options.program() + " --help')");
  }
  // cxxopts keeps the last of repeated values: --subset 512 ... --subset 100000 would train on every image.
  const std::map<std::string, bool> repeatable = known_flags(options);
  std::map<std::string, std::string> seen;
  for (const cxxopts::KeyValue& kv : flags.arguments()) {
    const auto it = repeatable.find(kv.key());
    if (it == repeatable.end() || it->second) continue;
    const auto [first, inserted] = seen.emplace(kv.key(), kv.value());
    if (!inserted) {
      throw UsageError("--" + kv.key() + " given twice (" + first->second + ", then " + kv.value() + "); give it once");
    }
  }
  return flags;
}

int run_reporting_errors(const std::string& command, const std::function<int()>& body) {
  try {
    return body();
  } catch (const UsageError& e) {
    log::error(command + ": " + std::string(e.what()));
    return kExitUsage;
  } catch (const cxxopts::exceptions::exception& e) {
    log::error(command + ": " + plain_quotes(e.what()) + " (see 'propnet " + command + " --help')");
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
