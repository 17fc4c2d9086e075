#include <cstring>
#include <limits>
#include <tuple>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/autograd.h>
#include <torch/types.h>

#include <propnet/nn/batch_norm_relu.h>
#include <propnet/nn/op_counter.h>
#include <propnet/nn/preact_block.h>
#include <propnet/models/registry.h>
#include "nn/simd8.h"
#include "support.h"

namespace propnet {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

// Two BatchNorm2d modules with the same random affine parameters and running statistics.
std::pair<torch::nn::BatchNorm2d, torch::nn::BatchNorm2d> twin_batch_norms(int64_t channels,
                                                                           c10::optional<double> momentum) {
  auto options = torch::nn::BatchNorm2dOptions(channels).eps(2e-5).momentum(momentum);
  torch::nn::BatchNorm2d a(options), b(options);
  torch::NoGradGuard no_grad;
  a->weight.uniform_(0.5, 1.5);
  a->bias.uniform_(-0.5, 0.5);
  a->running_mean.uniform_(-1, 1);
  a->running_var.uniform_(0.5, 2);
  for (const auto& item : a->named_parameters()) b->named_parameters()[item.key()].copy_(item.value());
  for (const auto& item : a->named_buffers()) b->named_buffers()[item.key()].copy_(item.value());
  return {a, b};
}

// shape, relu, momentum (nullopt: cumulative average)
using Case = std::tuple<std::vector<int64_t>, bool, c10::optional<double>>;

// Both layouts have kernels of their own: NCHW planes and channels_last rows.
class BatchNormReluTest : public ::testing::TestWithParam<std::tuple<Case, at::MemoryFormat>> {
 protected:
  void SetUp() override { torch::manual_seed(0); }
};

TEST_P(BatchNormReluTest, MatchesBatchNorm2dThenReluForwardBackwardAndBuffers) {
  const auto& [shape, relu, momentum] = std::get<0>(GetParam());
  const at::MemoryFormat format = std::get<1>(GetParam());
  auto [fused, reference] = twin_batch_norms(shape[1], momentum);
  // An offset mean checks the shifted variance sums; some outputs land on both sides of zero.
  const torch::Tensor input = (torch::randn(shape) * 3 + 5).contiguous(format);
  const torch::Tensor grad = torch::randn(shape).contiguous(format);
  if (!batch_norm_relu_is_fused(*fused, input)) GTEST_SKIP() << "this CPU lacks AVX2/FMA: no fused path to test";

  for (int step = 0; step < 2; ++step) {  // two steps: num_batches_tracked and the running blend
    torch::Tensor x1 = input.clone().requires_grad_(), x2 = input.clone().requires_grad_();
    const torch::Tensor y1 = batch_norm_relu(*fused, x1, relu);
    const torch::Tensor y2 = relu ? torch::relu(reference(x2)) : reference(x2);
    EXPECT_TRUE(torch::allclose(y1, y2, 1e-4, 1e-5)) << (y1 - y2).abs().max();
    EXPECT_TRUE(y1.is_contiguous(format));  // the next convolution gets the layout it was given
    // The input gradient's own layout (x1.grad() would be restrided to x1's by AccumulateGrad).
    const torch::Tensor grad_x = torch::autograd::grad({y1}, {x1}, {grad}, /*retain_graph=*/true)[0];
    EXPECT_TRUE(grad_x.is_contiguous(format)) << grad_x.strides();
    y1.backward(grad);
    y2.backward(grad);
    EXPECT_TRUE(torch::allclose(x1.grad(), x2.grad(), 1e-4, 1e-5)) << (x1.grad() - x2.grad()).abs().max();
    EXPECT_TRUE(torch::allclose(fused->weight.grad(), reference->weight.grad(), 1e-4, 1e-4))
        << fused->weight.grad() - reference->weight.grad();
    EXPECT_TRUE(torch::allclose(fused->bias.grad(), reference->bias.grad(), 1e-4, 1e-4));
    EXPECT_TRUE(torch::allclose(fused->running_mean, reference->running_mean, 1e-5, 1e-6));
    EXPECT_TRUE(torch::allclose(fused->running_var, reference->running_var, 1e-5, 1e-6));
    EXPECT_EQ(fused->num_batches_tracked.item<int64_t>(), step + 1);
    EXPECT_EQ(reference->num_batches_tracked.item<int64_t>(), step + 1);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, BatchNormReluTest,
    ::testing::Combine(
        ::testing::Values(Case{{8, 16, 32, 32}, true, 0.1},      // stage 1 of the CIFAR networks (32 row chunks)
                          Case{{8, 64, 8, 8}, false, 0.1},       // stage 3, BN without its ReLU
                          Case{{4, 12, 16, 16}, true, 0.1},      // 8 + 4 channels; a partial last row chunk
                          Case{{3, 5, 7, 7}, true, c10::nullopt},  // plane and channels not multiples of 8
                          Case{{1, 4, 1, 3}, true, 0.3},         // one image: statistics over 3 values
                          Case{{5, 2, 1, 1}, false, 0.1}),       // 1x1 planes: statistics over the batch
        ::testing::Values(at::MemoryFormat::Contiguous, at::MemoryFormat::ChannelsLast)));

// bfloat16 activations (a convolution's output under CPU autocast) with float32 parameters: the kernels
// widen bf16 exactly, compute in float32 and round once to nearest even, so their results are bit for
// bit the float32 path's on the same (bf16-valued) inputs, rounded to bf16; and they agree with
// ATen's bf16 BatchNorm2d + ReLU to bf16 precision.
class BatchNormReluBf16Test : public ::testing::TestWithParam<std::tuple<Case, at::MemoryFormat>> {
 protected:
  void SetUp() override { torch::manual_seed(0); }
};

// |a - b| <= tolerance * max|b| elementwise, in float.
::testing::AssertionResult close_to_scale(const torch::Tensor& a, const torch::Tensor& b, double tolerance) {
  const double scale = b.to(torch::kFloat).abs().max().item<double>() + 1e-6;
  const double worst = (a.to(torch::kFloat) - b.to(torch::kFloat)).abs().max().item<double>();
  if (worst <= tolerance * scale) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "max difference " << worst << " > " << tolerance << " x " << scale;
}

TEST_P(BatchNormReluBf16Test, RoundsTheFloat32ResultOnceAndMatchesATenBf16) {
  const auto& [shape, relu, momentum] = std::get<0>(GetParam());
  const at::MemoryFormat format = std::get<1>(GetParam());
  const int64_t channels = shape[1];
  torch::manual_seed(4);
  auto [fused, via_float] = twin_batch_norms(channels, momentum);
  torch::manual_seed(4);
  auto [aten, unused] = twin_batch_norms(channels, momentum);
  const torch::Tensor input = (torch::randn(shape) * 3 + 5).to(torch::kBFloat16).contiguous(format);
  const torch::Tensor grad = torch::randn(shape).to(torch::kBFloat16).contiguous(format);
  if (!batch_norm_relu_is_fused(*fused, input)) GTEST_SKIP() << "this CPU lacks AVX2/FMA: no fused path to test";

  for (int step = 0; step < 2; ++step) {
    torch::Tensor x1 = input.clone().requires_grad_(), x2 = input.to(torch::kFloat).requires_grad_();
    torch::Tensor x3 = input.clone().requires_grad_();
    const torch::Tensor y1 = batch_norm_relu(*fused, x1, relu);
    const torch::Tensor y2 = batch_norm_relu(*via_float, x2, relu);  // the float32 kernels
    const torch::Tensor y3 = relu ? torch::relu(aten(x3)) : aten(x3);  // ATen's bf16 batch norm
    ASSERT_EQ(y1.scalar_type(), torch::kBFloat16);
    EXPECT_TRUE(y1.is_contiguous(format));
    EXPECT_TRUE(torch::equal(y1, y2.to(torch::kBFloat16))) << (y1.to(torch::kFloat) - y2).abs().max();
    EXPECT_TRUE(close_to_scale(y1, y3, 1.0 / 64));
    y1.backward(grad);
    y2.backward(grad.to(torch::kFloat));
    y3.backward(grad);
    ASSERT_EQ(x1.grad().scalar_type(), torch::kBFloat16);
    EXPECT_TRUE(torch::equal(x1.grad(), x2.grad().to(torch::kBFloat16)));
    EXPECT_TRUE(torch::equal(fused->weight.grad(), via_float->weight.grad()));
    EXPECT_TRUE(torch::equal(fused->bias.grad(), via_float->bias.grad()));
    EXPECT_TRUE(torch::equal(fused->running_mean, via_float->running_mean));
    EXPECT_TRUE(torch::equal(fused->running_var, via_float->running_var));
    EXPECT_TRUE(close_to_scale(x1.grad(), x3.grad(), 1.0 / 32));
    EXPECT_TRUE(close_to_scale(fused->weight.grad(), aten->weight.grad(), 1.0 / 64));
    EXPECT_TRUE(close_to_scale(fused->bias.grad(), aten->bias.grad(), 1.0 / 64));
    EXPECT_TRUE(torch::allclose(fused->running_mean, aten->running_mean, 1e-3, 1e-3));
    EXPECT_TRUE(torch::allclose(fused->running_var, aten->running_var, 1e-3, 1e-3));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, BatchNormReluBf16Test,
    ::testing::Combine(::testing::Values(Case{{8, 16, 32, 32}, true, 0.1}, Case{{8, 64, 8, 8}, false, 0.1},
                                         Case{{3, 5, 7, 7}, true, c10::nullopt}),  // 8-lane tails
                       ::testing::Values(at::MemoryFormat::Contiguous, at::MemoryFormat::ChannelsLast)));

// The kernels' bf16 loads and stores against c10::BFloat16, on the values where rounding is delicate.
PROPNET_AVX2_KERNEL void round_trip8(const float* in, c10::BFloat16* stored, float* loaded) {
  detail::simd::store8(stored, detail::simd::load8(in));
  detail::simd::store8(loaded, detail::simd::load8(stored));
}

TEST(BatchNormRelu, Bf16LoadsAndStoresRoundAsC10) {
  if (!detail::simd::cpu_runs_kernels()) GTEST_SKIP() << "this CPU lacks AVX2/FMA: no fused path to test";
  const std::vector<uint32_t> bits{
      0x3F808000, 0x3F818000,  // ties: to the even neighbour, down and up
      0x3F808001, 0x3F807FFF,  // just above and below a tie
      0x7F7FFFFF,              // the largest float rounds up to infinity
      0x00000001, 0x807FFFFF,  // denormals
      0x7F800000, 0xFF800000,  // infinities
      0x7FC00000, 0xFFC00000,  // quiet NaNs
      0x7FFFFFFF, 0x7F800001,  // NaNs that rounding arithmetic would turn into -0 and infinity
      0x00000000, 0x80000000, 0x40490FDB};
  std::vector<float> in(16), loaded(16);
  std::memcpy(in.data(), bits.data(), sizeof(float) * 16);
  std::vector<c10::BFloat16> stored(16);
  for (int half = 0; half < 2; ++half) {
    round_trip8(in.data() + 8 * half, stored.data() + 8 * half, loaded.data() + 8 * half);
  }
  for (size_t i = 0; i < bits.size(); ++i) {
    SCOPED_TRACE(::testing::Message() << "0x" << std::hex << bits[i]);
    EXPECT_EQ(stored[i].x, c10::BFloat16(in[i]).x);
    const float widened = static_cast<float>(stored[i]);
    EXPECT_EQ(std::memcmp(&loaded[i], &widened, sizeof(float)), 0);
  }
}

TEST(BatchNormRelu, Bf16KeepsNaNAndTakesTheFusedPathOnlyWithFloat32Parameters) {
  auto [bn, unused] = twin_batch_norms(2, 0.1);
  torch::Tensor x = torch::randn({4, 2, 3, 3}).to(torch::kBFloat16);
  if (!batch_norm_relu_is_fused(*bn, x)) GTEST_SKIP() << "this CPU lacks AVX2/FMA: no fused path to test";
  x[0][1][0][0] = std::numeric_limits<float>::quiet_NaN();
  const torch::Tensor y = batch_norm_relu(*bn, x, true);
  EXPECT_TRUE(y.select(1, 1).isnan().all().item<bool>());
  EXPECT_FALSE(y.select(1, 0).isnan().any().item<bool>());
  EXPECT_FALSE(batch_norm_relu_is_fused(*bn, x.to(torch::kHalf)));
  bn->to(torch::kBFloat16);  // a bf16 module (no autocast): ATen's path
  EXPECT_FALSE(batch_norm_relu_is_fused(*bn, x));
}

TEST(BatchNormRelu, IsDeterministicAcrossThreadCounts) {
  for (const at::MemoryFormat format : {at::MemoryFormat::Contiguous, at::MemoryFormat::ChannelsLast}) {
    SCOPED_TRACE(format == at::MemoryFormat::Contiguous ? "NCHW" : "channels_last");
    torch::manual_seed(1);
    const torch::Tensor x = torch::randn({16, 32, 16, 16}).contiguous(format);
    const torch::Tensor grad = torch::randn({16, 32, 16, 16}).contiguous(format);
    const int threads = at::get_num_threads();
    std::vector<torch::Tensor> results;
    for (int n : {1, 3}) {
      at::set_num_threads(n);
      torch::manual_seed(2);  // the same affine parameters and running statistics each time
      auto [bn, unused] = twin_batch_norms(32, 0.1);
      torch::Tensor input = x.clone().requires_grad_();
      batch_norm_relu(*bn, input, true).backward(grad);
      results.push_back(input.grad());
      results.push_back(bn->running_var.clone());
      results.push_back(bn->weight.grad().clone());
    }
    at::set_num_threads(threads);
    EXPECT_TRUE(torch::equal(results[0], results[3]));
    EXPECT_TRUE(torch::equal(results[1], results[4]));
    EXPECT_TRUE(torch::equal(results[2], results[5]));
  }
}

TEST(BatchNormRelu, KeepsNaNLikeRelu) {  // a diverging run must still show NaN, not zeros
  auto [bn, unused] = twin_batch_norms(2, 0.1);
  torch::Tensor x = torch::randn({4, 2, 3, 3});
  x[0][1][0][0] = std::numeric_limits<float>::quiet_NaN();
  const torch::Tensor y = batch_norm_relu(*bn, x, true);
  EXPECT_TRUE(y.select(1, 1).isnan().all().item<bool>());  // the channel's statistics are NaN
  EXPECT_FALSE(y.select(1, 0).isnan().any().item<bool>());
}

TEST(BatchNormRelu, FallsBackToTheModulesOutsideDenseCpuFloat32Training) {
  auto [bn, reference] = twin_batch_norms(4, 0.1);
  const torch::Tensor x = torch::randn({2, 4, 5, 5});
  bn->eval();
  reference->eval();
  EXPECT_FALSE(batch_norm_relu_is_fused(*bn, x));
  EXPECT_TRUE(torch::equal(batch_norm_relu(*bn, x, true), torch::relu(reference(x))));
  bn->train();
  if (fused_batch_norm_relu_available()) {
    EXPECT_TRUE(batch_norm_relu_is_fused(*bn, x.contiguous(at::MemoryFormat::ChannelsLast)));
  }
  EXPECT_FALSE(batch_norm_relu_is_fused(*bn, x.contiguous(at::MemoryFormat::ChannelsLast).slice(2, 0, 5, 2)));
  EXPECT_FALSE(batch_norm_relu_is_fused(*bn, x.to(torch::kDouble)));
  EXPECT_FALSE(batch_norm_relu_is_fused(*bn, x.slice(3, 0, 5, 2)));  // strided view
  EXPECT_FALSE(batch_norm_relu_is_fused(*bn, torch::randn({1, 4, 1, 1})));  // one value per channel
  // ... where the module's own checks speak.
  EXPECT_THAT([&] { batch_norm_relu(*bn, torch::randn({1, 4, 1, 1}), true); },
              ThrowsMessage<c10::Error>(HasSubstr("more than 1 value per channel")));
  EXPECT_THAT([&] { batch_norm_relu(*bn, torch::randn({2, 3, 5, 5}), true); }, ::testing::Throws<c10::Error>());
}

TEST(BatchNormRelu, RefusesDoubleBackward) {
  auto [bn, unused] = twin_batch_norms(3, 0.1);
  torch::Tensor x = torch::randn({4, 3, 4, 4}).requires_grad_();
  if (!batch_norm_relu_is_fused(*bn, x)) GTEST_SKIP() << "this CPU lacks AVX2/FMA: no fused path to test";
  const torch::Tensor y = batch_norm_relu(*bn, x, true).pow(2).sum();
  EXPECT_THAT([&] { torch::autograd::grad({y}, {x}, {}, /*retain_graph=*/true, /*create_graph=*/true); },
              ThrowsMessage<c10::Error>(HasSubstr("double backward is not supported")));
}

// A whole network in float (fused path, NCHW and channels_last) against its double copy (BatchNorm2d +
// ReLU; the fused path is float only): one training step's loss, every gradient and every running
// statistic agree to float precision, so no block wires the fused path wrongly.
TEST(BatchNormRelu, FusedFloatNetworkTracksTheDoublePrecisionModules) {
  if (!fused_batch_norm_relu_available()) GTEST_SKIP() << "this CPU lacks AVX2/FMA: no fused path to test";
  const std::vector<std::tuple<std::string, int64_t, std::string>> networks{
      {"preresnet", 20, "paired"}, {"preresnet", 20, "proportional"}, {"resnet", 20, "paired"},
      {"plain", 38, "proportional"}, {"dfn-mr", 14, "type1"}};
  for (const auto& [arch, depth, variant] : networks) {
    for (const at::MemoryFormat format : {at::MemoryFormat::Contiguous, at::MemoryFormat::ChannelsLast}) {
      SCOPED_TRACE(arch + "-" + std::to_string(depth) + " " + variant +
                   (format == at::MemoryFormat::ChannelsLast ? " channels_last" : " NCHW"));
      models::NetworkSpec spec;
      spec.arch = arch;
      spec.depth = depth;
      spec.mask.variant = variant;
      torch::manual_seed(3);
      models::Network fused = models::build_network(spec);
      torch::manual_seed(3);
      models::Network reference = models::build_network(spec);
      reference->to(torch::kDouble);
      for (auto& p : fused->parameters()) {
        if (p.dim() == 4) p.set_data(p.data().contiguous(format));
      }
      const torch::Tensor x = torch::randn({8, 3, 16, 16}), labels = torch::randint(0, 10, {8});
      const torch::Tensor loss = torch::cross_entropy_loss(fused->forward(x.contiguous(format)), labels);
      const torch::Tensor reference_loss =
          torch::cross_entropy_loss(reference->forward(x.to(torch::kDouble)), labels);
      EXPECT_NEAR(loss.item<double>(), reference_loss.item<double>(), 1e-4);
      loss.backward();
      reference_loss.backward();
      const auto expected = reference->named_parameters();
      for (const auto& item : fused->named_parameters()) {
        const torch::Tensor want = expected[item.key()].grad().to(torch::kFloat);
        const double scale = want.abs().max().item<double>() + 1e-6;
        EXPECT_LT((item.value().grad() - want).abs().max().item<double>() / scale, 1e-3) << item.key();
      }
      const auto buffers = reference->named_buffers();
      for (const auto& item : fused->named_buffers()) {
        EXPECT_TRUE(torch::allclose(item.value().to(torch::kDouble), buffers[item.key()], 1e-4, 1e-5)) << item.key();
      }
    }
  }
}

TEST(BatchNormRelu, BlocksCountTheReluTheyApply) {
  PreActBlock block(PreActBlockOptions(8, 8, ReluMask({false, true})));
  block->train();
  CountingScope scope;
  block(torch::randn({2, 8, 6, 6}));
  EXPECT_EQ(scope.counts().relus, 1);
}

}  // namespace
}  // namespace propnet
