// What `propnet bench` measures, checked for consistency; no timing assertions (those belong in
// the benchmark itself).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <propnet/models/network.h>
#include <propnet/models/summary.h>
#include <propnet/train/benchmark.h>

namespace propnet::train {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

models::NetworkSpec preresnet8() {
  models::NetworkSpec spec;
  spec.arch = "preresnet";
  spec.depth = 8;
  spec.in_channels = 1;
  return spec;
}

TEST(BenchmarkTest, ReportsConsistentFiguresForTheNetworkItTrained) {
  TrainSpec spec;
  spec.batch_size = 4;
  const auto r = benchmark_training(preresnet8(), spec, c10::Device(c10::kCPU), TrainBenchOptions().steps(3).warmup(1));
  EXPECT_EQ(r.parameters, models::count_parameters(*models::Network(preresnet8())));
  EXPECT_GT(r.step_ms_p50, 0);
  EXPECT_GE(r.step_ms_p90, r.step_ms_p50);
  EXPECT_NEAR(r.images_per_s, 4 / (r.step_ms_p50 / 1000), 1e-6 * r.images_per_s);
  EXPECT_GT(r.peak_mem_mb, 0);
  EXPECT_EQ(r.device, "cpu");
  EXPECT_FALSE(r.torch_version.empty());
  EXPECT_GE(r.threads, 1);
}

TEST(BenchmarkTest, RejectsWhatTheDeviceCannotRun) {
  TrainSpec spec;
  spec.cuda_graph = true;
  EXPECT_THAT([&] { benchmark_training(preresnet8(), spec, c10::Device(c10::kCPU)); },
              ThrowsMessage<c10::ValueError>(HasSubstr("CUDA graphs need a CUDA device")));
  spec.cuda_graph = false;
  spec.amp = "bf16";
  EXPECT_THAT([&] { benchmark_training(preresnet8(), spec, c10::Device(c10::kCPU)); },
              ThrowsMessage<c10::ValueError>(HasSubstr("needs a CUDA device")));
  EXPECT_THAT([&] { benchmark_training(preresnet8(), TrainSpec{}, c10::Device(c10::kCPU), TrainBenchOptions().steps(0)); },
              ThrowsMessage<c10::ValueError>(HasSubstr("expected steps >= 1")));
}

}  // namespace
}  // namespace propnet::train
