#include "network_flags.h"

#include <map>

#include "cli.h"

namespace propnet::cli {
namespace {

template <typename Enum>
Enum choose(const cxxopts::ParseResult& flags, const std::string& flag, const std::map<std::string, Enum>& choices) {
  const auto value = flags[flag].as<std::string>();
  const auto found = choices.find(value);
  if (found != choices.end()) return found->second;
  std::string valid;
  for (const auto& [name, unused] : choices) valid += (valid.empty() ? "" : ", ") + name;
  throw UsageError("--" + flag + ": expected one of " + valid + " (got \"" + value + "\")");
}

}  // namespace

void add_network_flags(cxxopts::Options& options) {
  options.add_options("Network")
      ("net", "network: plain, resnet, preresnet, preresnet-bottleneck, dfn-mr (see --list)", cxxopts::value<std::string>())
      ("depth", "plain-equivalent depth as in the paper's tables (e.g. 110)", cxxopts::value<int64_t>())
      ("variant", "named keep-mask: paired, proportional, type1, ... (see --list)", cxxopts::value<std::string>()->default_value("paired"))
      ("relu-mask", "explicit keep-mask over the block's ReLU sites, e.g. 011 ('1' keep, '0' removed)", cxxopts::value<std::string>())
      ("classes", "number of classes (10 for CIFAR-10, 100 for CIFAR-100)", cxxopts::value<int64_t>()->default_value("10"))
      ("in-channels", "input channels (3 for CIFAR, 1 for Fashion-MNIST)", cxxopts::value<int64_t>()->default_value("3"))
      ("widen-factor", "DFN-MR widen factor k (1 is DFN-MR1)", cxxopts::value<int64_t>()->default_value("1"));
  options.add_options("Architecture switches (spec section 10; defaults are the spec's)")
      ("shortcut", "pre-activation basic block shortcut: A (zero-pad) or B (1x1 projection)", cxxopts::value<std::string>()->default_value("A"))
      ("bottleneck-stride", "bottleneck downsampling on: first-1x1 (He's code) or 3x3", cxxopts::value<std::string>()->default_value("first-1x1"))
      ("final-merge", "DFN-MR last block: sum = ReLU(M+D1+D2), double = ReLU(2M+D1+D2)", cxxopts::value<std::string>()->default_value("sum"))
      ("plain-indexing", "plain mask numbering over convs: global or per-stage", cxxopts::value<std::string>()->default_value("global"))
      ("conv-init", "MSRA conv init: fan-in (fusenet) or fan-out (He)", cxxopts::value<std::string>()->default_value("fan-in"))
      ("no-shared-preactivation", "pre-act stage-first units: shortcut takes raw x instead of the shared BN-ReLU(x)")
      ("shortcut-keeps-relu", "where the first ReLU is removed from a shared pre-activation, keep it on the shortcut");
}

models::NetworkSpec network_spec_from(const cxxopts::ParseResult& flags) {
  if (!flags.count("net")) throw UsageError("--net is required (see --list)");
  if (!flags.count("depth")) throw UsageError("--depth is required");
  models::NetworkSpec spec;
  apply_network_flags(spec, flags);
  return spec;
}

void apply_network_flags(models::NetworkSpec& spec, const cxxopts::ParseResult& flags) {
  if (flags.count("relu-mask") && flags.count("variant")) {
    throw UsageError("--variant and --relu-mask are exclusive; give one");
  }
  if (flags.count("net")) spec.arch = flags["net"].as<std::string>();
  if (flags.count("depth")) spec.depth = flags["depth"].as<int64_t>();
  if (flags.count("variant")) {
    spec.variant = flags["variant"].as<std::string>();
    spec.relu_mask.clear();
  }
  if (flags.count("relu-mask")) spec.relu_mask = flags["relu-mask"].as<std::string>();
  if (flags.count("classes")) spec.num_classes = flags["classes"].as<int64_t>();
  if (flags.count("in-channels")) spec.in_channels = flags["in-channels"].as<int64_t>();
  if (flags.count("widen-factor")) spec.widen_factor = flags["widen-factor"].as<int64_t>();

  models::ArchOptions& o = spec.options;
  if (flags.count("shortcut")) o.shortcut = choose<Shortcut>(flags, "shortcut", {{"A", Shortcut::kA}, {"B", Shortcut::kB}});
  if (flags.count("bottleneck-stride")) {
    o.bottleneck_stride = choose<BottleneckStride>(
        flags, "bottleneck-stride", {{"first-1x1", BottleneckStride::kFirst1x1}, {"3x3", BottleneckStride::kConv3x3}});
  }
  if (flags.count("final-merge")) {
    o.final_merge = choose<FinalMerge>(flags, "final-merge", {{"sum", FinalMerge::kSum}, {"double", FinalMerge::kDoubleMerge}});
  }
  if (flags.count("plain-indexing")) {
    o.plain_indexing = choose<models::PlainIndexing>(
        flags, "plain-indexing", {{"global", models::PlainIndexing::kGlobal}, {"per-stage", models::PlainIndexing::kPerStage}});
  }
  if (flags.count("conv-init")) {
    o.conv_init = choose<ConvInit>(flags, "conv-init", {{"fan-in", ConvInit::kFanIn}, {"fan-out", ConvInit::kFanOut}});
  }
  if (flags.count("no-shared-preactivation")) o.shared_preactivation = false;
  if (flags.count("shortcut-keeps-relu")) o.shortcut_keeps_relu = true;
}

}  // namespace propnet::cli
