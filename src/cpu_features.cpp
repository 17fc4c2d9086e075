// The CPU's model and features, from /proc/cpuinfo: the kernel lists there only what it can also
// use (AMX, for one, needs the kernel's support for its tile state), which CPUID alone would not say.
#include <propnet/runtime.h>

#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <utility>

namespace propnet {
namespace {

// The value of "key : value" lines, "" for other lines.
std::string value_of(const std::string& line, const std::string& key) {
  if (line.rfind(key, 0) != 0) return "";
  const size_t colon = line.find(':', key.size());
  if (colon == std::string::npos || line.find_first_not_of(" \t", key.size()) != colon) return "";
  const size_t start = line.find_first_not_of(" \t", colon + 1);
  return start == std::string::npos ? "" : line.substr(start);
}

// Each feature's /proc/cpuinfo flag and member, in the order names() lists them.
const std::pair<const char*, bool CpuFeatures::*> kFeatures[] = {
    {"avx2", &CpuFeatures::avx2},           {"fma", &CpuFeatures::fma},          {"avx512f", &CpuFeatures::avx512f},
    {"avx512_bf16", &CpuFeatures::avx512_bf16}, {"amx_bf16", &CpuFeatures::amx_bf16}};

}  // namespace

std::vector<std::string> CpuFeatures::names() const {
  std::vector<std::string> out;
  for (const auto& [name, member] : kFeatures) {
    if (this->*member) out.emplace_back(name);
  }
  return out;
}

std::string CpuFeatures::summary() const {
  std::string features;
  for (const std::string& name : names()) features += (features.empty() ? "" : " ") + name;
  return (model.empty() ? std::string("model unknown") : model) + " (" + (features.empty() ? "no AVX2" : features) + ")";
}

CpuFeatures parse_cpuinfo(const std::string& cpuinfo) {
  CpuFeatures cpu;
  std::istringstream in(cpuinfo);
  std::string line;
  bool have_flags = false;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) {
      if (!cpu.model.empty() || have_flags) break;  // the end of the first processor's block
      continue;
    }
    if (const std::string model = value_of(line, "model name"); !model.empty() && cpu.model.empty()) cpu.model = model;
    if (const std::string flags = value_of(line, "flags"); !flags.empty() && !have_flags) {
      have_flags = true;
      std::istringstream words(flags);
      const std::set<std::string> has{std::istream_iterator<std::string>(words), std::istream_iterator<std::string>()};
      for (const auto& [name, member] : kFeatures) cpu.*member = has.count(name) > 0;
    }
  }
  return cpu;
}

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = [] {
    std::ifstream in("/proc/cpuinfo");
    std::ostringstream text;
    text << in.rdbuf();
    return parse_cpuinfo(text.str());
  }();
  return features;
}

std::string bf16_cpu_warning(const CpuFeatures& cpu) {
  if (cpu.has_bf16_units()) return "";
  return "bf16 on this CPU (" + (cpu.model.empty() ? std::string("model unknown") : cpu.model) +
         ") has no AMX-BF16 and no AVX512-BF16: it runs in software and will likely be much slower than fp32 "
         "(--amp off)";
}

}  // namespace propnet
