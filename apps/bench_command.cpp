// `propnet bench`: timed training steps on synthetic data (or, with --data-only, the input pipeline).
#include <iostream>

#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <propnet/choices.h>
#include <propnet/data/transforms.h>
#include <propnet/models/network_mask.h>
#include <propnet/nn/batch_norm_relu.h>
#include <propnet/runtime.h>
#include <propnet/train/benchmark.h>
#include <propnet/train/device.h>

#include "cli.h"
#include "config_flags.h"
#include "experiment_setup.h"

namespace propnet::cli {
namespace {

constexpr const char* kBenchDescription =
    "Time full training steps (forward, loss, backward, SGD update) of a network on device-resident\n"
    "synthetic 32x32 data, with the same step `propnet train` runs, and report images/s (from the median\n"
    "step), step time p50/p90 and peak memory. --data-only times the input pipeline instead.\n"
    "scripts/bench_vs_pytorch.sh puts these numbers beside an equivalent PyTorch training step.";

nlohmann::json to_json(const train::TrainBenchResult& r, const models::NetworkSpec& net, const TrainSpec& spec,
                       const train::TrainBenchOptions& options) {
  return {{"tool", "propnet"},
          {"net", net.arch},
          {"depth", net.depth},
          {"variant", models::mask_text(net)},
          {"classes", net.num_classes},
          {"parameters", r.parameters},
          {"batch_size", spec.batch_size},
          {"steps", options.steps()},
          {"warmup", options.warmup()},
          {"amp", to_string(spec.amp)},
          {"channels_last", r.channels_last},
          {"cuda_graph", spec.cuda_graph},
          {"images_per_s", r.images_per_s},
          {"step_ms_p50", r.step_ms_p50},
          {"step_ms_p90", r.step_ms_p90},
          {"step_ms_mean", r.step_ms_mean},
          {"peak_mem_mb", r.peak_mem_mb},
          {"device", r.device},
          {"device_name", r.device_name},
          {"threads", r.threads},
          {"cpu_model", cpu_features().model},        // the host's CPU, on any device: it feeds the steps
          {"cpu_features", cpu_features().names()},   // avx2, fma, avx512f, avx512_bf16, amx_bf16
          {"host_allocator", tune_host_allocator().detail},
          {"fused_bn_relu", fused_batch_norm_relu_available()},  // on CPU float32 NCHW
          {"torch_version", r.torch_version}};
}

// The training flags bench takes; the others (epochs, lr, ...) do not change a step's time.
FlagSelection bench_flags() {
  FlagSelection selection = network_flags();
  selection.flags = {"batch-size", "bn-batch", "device", "amp", "channels-last", "cuda-graph", "deterministic", "threads"};
  return selection;
}

int run_data_only(const cxxopts::ParseResult& flags, int64_t batch_size, const c10::Device& device) {
  const auto options = data::PipelineBenchOptions()
                           .batch_size(batch_size)
                           .steps(flags["steps"].as<int64_t>())
                           .device(device);
  const data::PipelineBenchResult r = data::benchmark_pipeline(options);
  if (flags.count("json")) {
    std::cout << nlohmann::json{{"tool", "propnet"},
                                {"mode", "data-only"},
                                {"images_per_s", r.images_per_second},
                                {"seconds", r.seconds},
                                {"batch_size", options.batch_size()},
                                {"steps", options.steps()},
                                {"device", device.str()},
                                {"threads", at::get_num_threads()},
                                {"torch_version", runtime_info().torch_version}}
                     .dump()
              << "\n";
  } else {
    std::cout << fmt::format("input pipeline (select, normalize, pad-4 crop, flip): {} batches of {} on {}: {:.0f} images/s\n",
                             options.steps(), options.batch_size(), device.str(), r.images_per_second);
  }
  return kExitOk;
}

}  // namespace

int bench_command(int argc, char** argv) {
  return run_reporting_errors("bench", [&] {
    cxxopts::Options options("propnet bench", kBenchDescription);
    add_config_flags(options, bench_flags());
    options.add_options("Benchmark")
        ("steps", "timed steps", cxxopts::value<int64_t>()->default_value("20"))
        ("warmup", "untimed steps first (CUDA graphs capture after 3 eager ones)", cxxopts::value<int64_t>()->default_value("5"))
        ("data-only", "time the input pipeline instead of training steps (no network flags)")
        ("json", "one JSON object on stdout")
        ("h,help", "show this help");
    const auto flags = parse_flags(options, argc, argv);
    if (flags.count("help")) {
      std::cout << options.help({"", "Benchmark", flag_groups::kTraining, flag_groups::kNetwork, flag_groups::kSwitches}) << "\nexamples:\n"
                << "  propnet bench --net preresnet --depth 110 --batch-size 64\n"
                << "  propnet bench --net preresnet --depth 110 --device cuda --amp bf16 --channels-last --cuda-graph --json\n"
                << "  propnet bench --data-only --batch-size 64 --steps 1000\n";
      return kExitOk;
    }
    if (!flags.unmatched().empty()) throw UsageError("unexpected argument \"" + flags.unmatched().front() + "\"");
    ExperimentConfig config;
    apply_config_flags(config, flags, bench_flags());
    const TrainSpec& spec = config.train;
    if (flags.count("threads")) configure_threads(spec.threads);
    const c10::Device device = train::resolve_device(spec.device);
    if (flags.count("data-only")) {
      if (flags.count("net")) throw UsageError("--data-only times the input pipeline; drop --net");
      return run_data_only(flags, spec.batch_size, device);
    }

    require_network_flags(flags);
    warn_about_cpu_precision(spec, device);
    const models::NetworkSpec& net = config.network;
    const auto bench_options =
        train::TrainBenchOptions().steps(flags["steps"].as<int64_t>()).warmup(flags["warmup"].as<int64_t>());
    const train::TrainBenchResult r = train::benchmark_training(net, spec, device, bench_options);
    if (flags.count("json")) {
      std::cout << to_json(r, net, spec, bench_options).dump() << "\n";
    } else {
      std::cout << fmt::format(
          "{}-{} ({}, {} params), batch {}, {}{}{}{} on {}{} ({} thread{}, LibTorch {}):\n"
          "  {:.1f} images/s   step p50 {:.2f} ms, p90 {:.2f} ms ({} timed steps after {} warm-up)   peak memory {:.0f} MiB\n",
          net.arch, net.depth, models::mask_text(net), r.parameters, spec.batch_size,
          spec.amp == Amp::kOff ? "fp32" : to_string(spec.amp), r.channels_last ? ", channels_last" : "",
          spec.cuda_graph ? ", CUDA graph" : "", spec.deterministic ? ", deterministic" : "", r.device,
          r.device_name.empty() ? " (" + cpu_features().summary() + ")" : " (" + r.device_name + ")", r.threads, r.threads == 1 ? "" : "s", r.torch_version, r.images_per_s,
          r.step_ms_p50, r.step_ms_p90, bench_options.steps(), bench_options.warmup(), r.peak_mem_mb);
    }
    return kExitOk;
  });
}

}  // namespace propnet::cli
