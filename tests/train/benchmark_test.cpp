// What `propnet bench` measures, checked for consistency; no timing assertions (those belong in
// the benchmark itself).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <propnet/models/network.h>
#include <propnet/models/summary.h>
#include <propnet/nn/batch_norm_relu.h>
#include <propnet/train/benchmark.h>
#include <propnet/train/device.h>

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
  EXPECT_EQ(r.channels_last, fused_batch_norm_relu_available());  // "auto" on the CPU
  spec.channels_last = false;
  EXPECT_FALSE(benchmark_training(preresnet8(), spec, c10::Device(c10::kCPU), TrainBenchOptions().steps(1).warmup(0))
                   .channels_last);
}

TEST(DeviceTest, ChannelsLastIsTheRequestOrTheDevicesFasterLayout) {
  const c10::Device cpu(c10::kCPU), cuda(c10::kCUDA, 0);
  EXPECT_TRUE(resolve_channels_last(true, cuda));
  EXPECT_FALSE(resolve_channels_last(false, cpu));
  EXPECT_EQ(resolve_channels_last(std::nullopt, cpu), fused_batch_norm_relu_available());
  EXPECT_FALSE(resolve_channels_last(std::nullopt, cuda));  // unmeasured on GPUs: the request decides
}

// One-channel tensors (Fashion-MNIST batches, the stem's weight) are channels_last contiguous with NCHW
// strides, which convolutions read as NCHW; to_channels_last gives them real NHWC strides.
TEST(DeviceTest, ToChannelsLastRestridesOneChannelTensors) {
  constexpr auto kChannelsLast = at::MemoryFormat::ChannelsLast;
  const at::Tensor gray = torch::randn({4, 1, 6, 6});
  ASSERT_TRUE(gray.is_contiguous(kChannelsLast));
  ASSERT_EQ(gray.suggest_memory_format(), at::MemoryFormat::Contiguous);
  const at::Tensor nhwc = to_channels_last(gray);
  EXPECT_EQ(nhwc.suggest_memory_format(), kChannelsLast);
  EXPECT_EQ(nhwc.strides(), at::IntArrayRef({36, 1, 6, 1}));
  EXPECT_TRUE(torch::equal(nhwc, gray));
  EXPECT_TRUE(to_channels_last(nhwc).is_same(nhwc));  // already NHWC: no copy
  const at::Tensor rgb = torch::randn({2, 3, 4, 4});
  EXPECT_EQ(to_channels_last(rgb).strides(), rgb.contiguous(kChannelsLast).strides());
  EXPECT_THAT([] { to_channels_last(torch::randn({2, 3})); },
              ThrowsMessage<c10::ValueError>(HasSubstr("expected a 4-D tensor")));
}

TEST(BenchmarkTest, RejectsWhatTheDeviceCannotRun) {
  TrainSpec spec;
  spec.cuda_graph = true;
  EXPECT_THAT([&] { benchmark_training(preresnet8(), spec, c10::Device(c10::kCPU)); },
              ThrowsMessage<c10::ValueError>(HasSubstr("CUDA graphs need a CUDA device")));
  spec.cuda_graph = false;
  spec.amp = Amp::kFp16;
  EXPECT_THAT([&] { benchmark_training(preresnet8(), spec, c10::Device(c10::kCPU)); },
              ThrowsMessage<c10::ValueError>(HasSubstr("fp16 autocast needs a CUDA device")));
  EXPECT_THAT([&] { benchmark_training(preresnet8(), TrainSpec{}, c10::Device(c10::kCPU), TrainBenchOptions().steps(0)); },
              ThrowsMessage<c10::ValueError>(HasSubstr("expected steps >= 1")));
}

}  // namespace
}  // namespace propnet::train
