// `propnet`: one binary, one subcommand per job (info, data, train, search, eval, bench).
#include <csignal>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include <propnet/choices.h>
#include <propnet/dist/group.h>
#include <propnet/nn/batch_norm_relu.h>
#include <propnet/runtime.h>

#include "cli.h"
#include "log.h"

namespace {

struct Command {
  std::string_view name;
  int (*run)(int, char**);
  std::string_view summary;
};

constexpr Command kCommands[] = {
    {"info", &propnet::cli::info_command, "describe a network: params, MACs, convs and ReLUs, conv:ReLU ratio"},
    {"data", &propnet::cli::data_command, "check a data set (counts, class counts, pixel mean/std) or time the input pipeline"},
    {"train", &propnet::cli::train_command, "train over several seeds with the paper's protocol; resumable"},
    {"search", &propnet::cli::search_command, "search which ReLU sites to keep under a budget (gates, greedy, random, exhaustive)"},
    {"eval", &propnet::cli::eval_command, "test loss and accuracy of a saved model"},
    {"bench", &propnet::cli::bench_command, "time training steps (or the input pipeline) on synthetic data"},
};

void print_usage() {
  std::cout << "propnet: train and compare CNNs whose conv:ReLU ratio is not 1:1\n"
               "(Zhao et al., \"Rethinking ReLU to Train Better CNNs\").\n\n"
               "usage: propnet <command> [flags]   (propnet <command> --help for its flags)\n\ncommands:\n";
  for (const Command& c : kCommands) std::cout << "  " << c.name << std::string(10 - c.name.size(), ' ') << c.summary << "\n";
  std::cout << "\nglobal flags:\n  --version   print propnet's and LibTorch's versions and the devices found\n"
               "  -h, --help  show this help\n";
}

void print_version() {
  const propnet::RuntimeInfo info = propnet::runtime_info();
  const propnet::HostAllocatorTuning allocator = propnet::tune_host_allocator();  // what main's call did
  std::cout << "propnet " << info.propnet_version << " (git " << info.git_revision << (info.git_dirty ? ", dirty" : "")
            << ")\nLibTorch " << info.torch_version
            << (info.cuda_compiled ? " (CUDA)" : " (CPU only)") << "\n";
  for (const auto& device : info.cuda_devices) std::cout << "cuda device: " << device << "\n";
  std::cout << "CPU: " << info.cpu.summary() << ", bf16 "
            << (info.cpu.has_bf16_units() ? "in hardware" : "in software (--amp bf16 is slow here)") << "\n";
  std::cout << "CPU threads: " << info.threads << "\n";
  std::cout << "fused CPU BN+ReLU: "
            << (propnet::fused_batch_norm_relu_available() ? "on (AVX2)" : "off (needs AVX2/FMA; PROPNET_FUSED_BN_RELU=0 turns it off)")
            << "\n";
  std::cout << "host allocator: " << (allocator.applied ? "" : "glibc defaults (") << allocator.detail
            << (allocator.applied ? "" : ")") << "\n";
  std::cout << "data parallel (c10d): " << (propnet::dist::gloo_available() ? "gloo (CPU)" : "no gloo (CPU)")
            << (propnet::dist::nccl_available() ? ", nccl (CUDA)" : "") << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  propnet::cli::log::init();  // stderr: stdout stays clean for --json
  propnet::configure_threads();  // LibTorch may start with 1 thread; users expect every core
  // Freed activations stay mapped: no page faults for each step's tensors (docs/performance.md).
  propnet::tune_host_allocator();
  // A write to a closed socket or pipe must fail as an error, not end the process without a word: Gloo
  // writes to its peers with writev, so a rank whose peer died would otherwise die of SIGPIPE, silently.
  // (Python ignores SIGPIPE at start-up, which is why PyTorch programs never meet this.)
  std::signal(SIGPIPE, SIG_IGN);
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    print_usage();
    return argc < 2 ? propnet::cli::kExitUsage : propnet::cli::kExitOk;
  }
  if (std::strcmp(argv[1], "--version") == 0) {
    print_version();
    return propnet::cli::kExitOk;
  }
  for (const Command& c : kCommands) {
    if (c.name == argv[1]) return c.run(argc - 1, argv + 1);
  }
  std::vector<std::string> names;
  for (const Command& c : kCommands) names.emplace_back(c.name);
  const std::string near = propnet::closest_name(argv[1], names);
  propnet::cli::log::error(std::string("unknown command \"") + argv[1] + "\"" +
                           (near.empty() ? "" : "; did you mean \"" + near + "\"?") + " (run 'propnet --help' for the list)");
  return propnet::cli::kExitUsage;
}
