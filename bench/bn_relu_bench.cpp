// BatchNorm2d + ReLU, one training step's forward and backward, at the activation shapes of the CIFAR
// networks: propnet's fused kernels against BatchNorm2d + at::relu (ATen), in float32 and in bfloat16
// (a convolution's output under CPU autocast; parameters float32), NCHW and channels_last. The paths
// alternate within every round and each figure is the median of the rounds, so both see the same
// machine state. Prints a Markdown table, the CPU and LibTorch it ran on.
//
//   propnet_bn_relu_bench [--threads 1] [--batch 64] [--rounds 7] [--steps 20]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <ATen/ops/relu.h>
#include <cxxopts.hpp>
#include <torch/csrc/autograd/autograd.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/types.h>

#include <propnet/nn/batch_norm_relu.h>
#include <propnet/runtime.h>

namespace {

struct Case {
  std::vector<int64_t> shape;
  at::MemoryFormat format;
  at::ScalarType type;
  std::string label() const {
    const char* layout = format == at::MemoryFormat::ChannelsLast ? "channels_last" : "NCHW";
    return std::to_string(shape[1]) + "x" + std::to_string(shape[2]) + "x" + std::to_string(shape[3]) + " " +
           layout + " " + (type == at::kBFloat16 ? "bf16" : "fp32");
  }
};

/// Milliseconds per forward + backward of `step`, averaged over `steps` calls.
template <typename Step>
double time_steps(int steps, const Step& step) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < steps; ++i) step();
  const std::chrono::duration<double, std::milli> elapsed = std::chrono::steady_clock::now() - start;
  return elapsed.count() / steps;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  cxxopts::Options options("propnet_bn_relu_bench", "Fused BN+ReLU against BatchNorm2d + ReLU, fp32 and bf16");
  options.add_options()("threads", "CPU threads", cxxopts::value<int>()->default_value("1"))(
      "batch", "images per batch", cxxopts::value<int64_t>()->default_value("64"))(
      "rounds", "alternating rounds (the median is reported)", cxxopts::value<int>()->default_value("7"))(
      "steps", "forward + backward steps per timing", cxxopts::value<int>()->default_value("20"))("h,help", "help");
  const auto flags = options.parse(argc, argv);
  if (flags.count("help")) {
    std::printf("%s\n", options.help().c_str());
    return 0;
  }
  const int rounds = flags["rounds"].as<int>(), steps = flags["steps"].as<int>();
  const int64_t batch = flags["batch"].as<int64_t>();
  propnet::configure_threads(flags["threads"].as<int>());
  propnet::tune_host_allocator();  // as the CLI does: no page faults for each step's fresh activations
  if (!propnet::fused_batch_norm_relu_available()) {
    std::fprintf(stderr, "error: the fused kernels do not run here (AVX2/FMA missing or PROPNET_FUSED_BN_RELU=0)\n");
    return 1;
  }

  std::vector<Case> cases;
  for (const auto& [channels, side] : std::vector<std::pair<int64_t, int64_t>>{{16, 32}, {32, 16}, {64, 8}})
    for (const at::ScalarType type : {at::kFloat, at::kBFloat16})
      for (const at::MemoryFormat format : {at::MemoryFormat::Contiguous, at::MemoryFormat::ChannelsLast})
        cases.push_back({{batch, channels, side, side}, format, type});

  std::map<std::string, std::vector<double>> fused_ms, aten_ms;
  for (int round = 0; round <= rounds; ++round) {  // round 0 warms up
    for (const Case& c : cases) {
      torch::nn::BatchNorm2d bn(c.shape[1]);
      const at::Tensor x = torch::randn(c.shape).to(c.type).contiguous(c.format).requires_grad_();
      const at::Tensor grad = torch::randn(c.shape).to(c.type).contiguous(c.format);
      // autograd::grad, not backward(): no accumulation into x.grad, which would add a pass to both.
      const double fused = time_steps(steps, [&] {
        torch::autograd::grad({propnet::batch_norm_relu(*bn, x, true)}, {x}, {grad});
      });
      const double aten = time_steps(steps, [&] { torch::autograd::grad({at::relu(bn->forward(x))}, {x}, {grad}); });
      if (round == 0) continue;
      fused_ms[c.label()].push_back(fused);
      aten_ms[c.label()].push_back(aten);
    }
  }

  std::printf("CPU: %s; LibTorch %s; %d thread(s); batch %lld; median of %d rounds of %d steps\n\n",
              propnet::cpu_features().summary().c_str(), propnet::runtime_info().torch_version.c_str(),
              flags["threads"].as<int>(), static_cast<long long>(batch), rounds, steps);
  std::printf("| activation | ATen BN + ReLU (ms) | fused (ms) | ATen / fused |\n|---|---:|---:|---:|\n");
  for (const Case& c : cases) {
    const double aten = median(aten_ms[c.label()]), fused = median(fused_ms[c.label()]);
    std::printf("| %s | %.3f | %.3f | %.2fx |\n", c.label().c_str(), aten, fused, aten / fused);
  }
  return 0;
}
