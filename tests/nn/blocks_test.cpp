#include <functional>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/autograd.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/types.h>

#include <propnet/nn/basic_block.h>
#include "nn/layers.h"
#include <propnet/nn/merge_and_run.h>
#include <propnet/nn/op_counter.h>
#include <propnet/nn/preact_block.h>
#include <propnet/nn/preact_bottleneck.h>
#include <propnet/nn/proportional.h>
#include <propnet/nn/residual_stage.h>
#include "support.h"

namespace propnet {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

using Fn = std::function<torch::Tensor(const torch::Tensor&)>;

// Largest deviation from f(a+b) - f(0) = (f(a) - f(0)) + (f(b) - f(0)), relative to the output scale.
double affinity_error(const Fn& f, torch::IntArrayRef shape) {
  torch::NoGradGuard no_grad;
  const auto a = torch::randn(shape), b = torch::randn(shape);
  const auto zero = f(torch::zeros(shape));
  const auto lhs = f(a + b) - zero, rhs = (f(a) - zero) + (f(b) - zero);
  return ((lhs - rhs).abs().max() / lhs.abs().max()).item<double>();
}

// Eval-mode BN with random running statistics, so BN is a non-trivial affine map.
template <typename Module>
void randomise_running_stats(Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& named : module->named_buffers()) {
    if (named.key().find("running_mean") != std::string::npos) named.value().normal_(0, 0.5);
    if (named.key().find("running_var") != std::string::npos) named.value().uniform_(0.5, 2.0);
  }
  module->eval();
}

class BlocksTest : public test::Seeded {};

TEST_F(BlocksTest, EveryBlockNamesItsSitesInMaskOrder) {
  EXPECT_THAT(BasicBlockImpl::relu_sites(), ElementsAre("after_bn1", "after_add"));
  EXPECT_THAT(PreActBlockImpl::relu_sites(), ElementsAre("before_conv1", "before_conv2"));
  EXPECT_THAT(PreActBottleneckImpl::relu_sites(), ElementsAre("before_conv1", "before_conv2", "before_conv3"));
  EXPECT_THAT(MergeAndRunImpl::relu_sites(),
              ElementsAre("branch1_mid", "branch1_after_add", "branch2_mid", "branch2_after_add"));
}

TEST_F(BlocksTest, WrongMaskLengthNamesTheBlockSites) {
  EXPECT_THAT([] { PreActBottleneck(PreActBottleneckOptions(16, 64, ReluMask::parse("01"))); },
              ThrowsMessage<c10::ValueError>(HasSubstr(
                  "PreActBottleneck: expected a relu_mask of 3 sites (before_conv1, before_conv2, before_conv3) "
                  "(got \"01\", 2 sites)")));
  EXPECT_THAT([] { MergeAndRun(MergeAndRunOptions(16, 16, ReluMask::parse("101"))); },
              ThrowsMessage<c10::ValueError>(HasSubstr("branch1_mid, branch1_after_add")));
}

TEST_F(BlocksTest, BasicBlockShapesAndRelus) {
  BasicBlock block(BasicBlockOptions(16, 32, ReluMask::parse("01")).stride(2));
  CountingScope scope;
  EXPECT_EQ(block(torch::randn({2, 16, 8, 8})).sizes(), torch::IntArrayRef({2, 32, 4, 4}));
  EXPECT_EQ(scope.counts().convs, 3);  // two 3x3 and the projection
  EXPECT_EQ(scope.counts().relus, 1);
}

TEST_F(BlocksTest, BlocksWithoutRelusAreAffineInEvalMode) {
  BasicBlock basic(BasicBlockOptions(8, 16, ReluMask::parse("00")).stride(2));
  PreActBlock preact(PreActBlockOptions(8, 16, ReluMask::parse("00")).stride(2).shared_preactivation(true));
  PreActBottleneck bottleneck(PreActBottleneckOptions(8, 16, ReluMask::parse("000")).stride(2));
  MergeAndRun merge(MergeAndRunOptions(8, 16, ReluMask::parse("0000")).stride(2));
  randomise_running_stats(basic);
  randomise_running_stats(preact);
  randomise_running_stats(bottleneck);
  randomise_running_stats(merge);
  const std::vector<int64_t> shape{2, 8, 8, 8};
  EXPECT_LT(affinity_error([&](const torch::Tensor& x) { return basic(x); }, shape), 1e-4);
  EXPECT_LT(affinity_error([&](const torch::Tensor& x) { return preact(x); }, shape), 1e-4);
  EXPECT_LT(affinity_error([&](const torch::Tensor& x) { return bottleneck(x); }, shape), 1e-4);
  EXPECT_LT(affinity_error([&](const torch::Tensor& x) { return std::get<0>(merge(x, x * 0.5)); }, shape), 1e-4);
  EXPECT_LT(affinity_error([&](const torch::Tensor& x) { return merge->forward_merged(x, -x); }, shape), 1e-4);
}

TEST_F(BlocksTest, BlocksWithRelusAreNotAffine) {
  BasicBlock basic(BasicBlockOptions(8, 8, ReluMask::parse("01")));
  PreActBlock preact(PreActBlockOptions(8, 8, ReluMask::parse("01")));
  PreActBottleneck bottleneck(PreActBottleneckOptions(8, 16, ReluMask::parse("011")));
  MergeAndRun merge(MergeAndRunOptions(8, 8, ReluMask::parse("1011")));
  randomise_running_stats(basic);
  randomise_running_stats(preact);
  randomise_running_stats(bottleneck);
  randomise_running_stats(merge);
  const std::vector<int64_t> shape{2, 8, 8, 8};
  EXPECT_GT(affinity_error([&](const torch::Tensor& x) { return basic(x); }, shape), 1e-2);
  EXPECT_GT(affinity_error([&](const torch::Tensor& x) { return preact(x); }, shape), 1e-2);
  EXPECT_GT(affinity_error([&](const torch::Tensor& x) { return bottleneck(x); }, shape), 1e-2);
  EXPECT_GT(affinity_error([&](const torch::Tensor& x) { return std::get<1>(merge(x, x * 0.5)); }, shape), 1e-2);
}

TEST_F(BlocksTest, PreActOptionAPadsZeroChannelsOntoTheSubsampledInput) {
  // Zero weights make the residual branch vanish, leaving the shortcut alone.
  PreActBlock block(PreActBlockOptions(2, 4, ReluMask::parse("11")).stride(2));
  {
    torch::NoGradGuard no_grad;
    for (auto& p : block->parameters()) p.zero_();
  }
  const auto x = torch::arange(2 * 4 * 4, torch::kFloat).reshape({1, 2, 4, 4});
  const auto y = block(x);
  ASSERT_EQ(y.sizes(), torch::IntArrayRef({1, 4, 2, 2}));
  EXPECT_TRUE(torch::equal(y.slice(1, 0, 2), x.slice(2, 0, 4, 2).slice(3, 0, 4, 2)));
  EXPECT_TRUE(torch::equal(y.slice(1, 2, 4), torch::zeros({1, 2, 2, 2})));
}

// channels_last stays channels_last through every block, forward and backward (in training mode, so
// through the fused NHWC BN+ReLU too): one NCHW output or gradient would turn every later op of a
// channels_last network into a layout conversion.
TEST_F(BlocksTest, BlocksKeepChannelsLastForwardAndBackward) {
  constexpr auto kChannelsLast = at::MemoryFormat::ChannelsLast;
  BasicBlock basic(BasicBlockOptions(8, 16, ReluMask::parse("01")).stride(2));
  PreActBlock preact(PreActBlockOptions(8, 16, ReluMask::parse("11")).stride(2).shared_preactivation(true));
  PreActBlock projected(PreActBlockOptions(8, 16, ReluMask::parse("11")).stride(2).shortcut(Shortcut::kB));
  PreActBottleneck bottleneck(PreActBottleneckOptions(8, 16, ReluMask::parse("011")).stride(2));
  MergeAndRun merge(MergeAndRunOptions(8, 16, ReluMask::parse("1011")).stride(2));
  Proportional proportional(ProportionalOptions(8, 16, ReluMask::parse("01")).stride(2));
  Proportional pre_proportional(ProportionalOptions(8, 16, ReluMask::parse("10")).order(Order::kPre));
  const std::vector<std::pair<std::string, torch::nn::Module*>> modules{
      {"basic", basic.get()},       {"preact option A", preact.get()},   {"preact option B", projected.get()},
      {"bottleneck", bottleneck.get()}, {"merge-and-run", merge.get()}, {"proportional", proportional.get()},
      {"pre-order proportional", pre_proportional.get()}};
  const std::vector<Fn> forwards{
      [&](const torch::Tensor& x) { return basic(x); },
      [&](const torch::Tensor& x) { return preact(x); },
      [&](const torch::Tensor& x) { return projected(x); },
      [&](const torch::Tensor& x) { return bottleneck(x); },
      [&](const torch::Tensor& x) {
        const auto [a, b] = merge(x, x * 0.5);
        return a + b;
      },
      [&](const torch::Tensor& x) { return proportional(x); },
      [&](const torch::Tensor& x) { return pre_proportional(x); }};
  for (size_t i = 0; i < modules.size(); ++i) {
    SCOPED_TRACE(modules[i].first);
    for (auto& p : modules[i].second->parameters()) {
      if (p.dim() == 4) p.set_data(p.data().contiguous(kChannelsLast));
    }
    const torch::Tensor x = torch::randn({4, 8, 8, 8}).contiguous(kChannelsLast).requires_grad_();
    const torch::Tensor y = forwards[i](x);
    EXPECT_TRUE(y.is_contiguous(kChannelsLast)) << y.strides();
    // autograd::grad, not x.grad(): AccumulateGrad restrides a leaf's gradient to the leaf's layout.
    const torch::Tensor grad = torch::autograd::grad({y}, {x}, {torch::randn_like(y)})[0];
    EXPECT_TRUE(grad.is_contiguous(kChannelsLast)) << grad.strides();
  }
}

// Slicing and padding give the same values, but slice_backward allocates an NCHW gradient; inside a
// block the residual sum hides that from x.grad, so the shortcut's own gradient is checked here.
TEST_F(BlocksTest, ZeroPadShortcutMatchesSlicingAndPaddingInEitherLayout) {
  // Gradients are read with autograd::grad: a leaf's .grad() is restrided to the leaf's layout by
  // AccumulateGrad, which would hide the layout the backward produced.
  for (const auto format : {at::MemoryFormat::Contiguous, at::MemoryFormat::ChannelsLast}) {
    const torch::Tensor input = torch::randn({2, 3, 5, 6}).contiguous(format);
    const torch::Tensor grad = torch::randn({2, 7, 3, 3}).contiguous(format);
    torch::Tensor x1 = input.clone().requires_grad_(), x2 = input.clone().requires_grad_();
    const torch::Tensor y1 = detail::zero_pad_shortcut(x1, 2, 7);
    const torch::Tensor y2 = torch::constant_pad_nd(x2.slice(2, 0, 5, 2).slice(3, 0, 6, 2), {0, 0, 0, 0, 0, 4});
    EXPECT_TRUE(torch::equal(y1, y2));
    EXPECT_TRUE(y1.is_contiguous(format));
    const torch::Tensor g1 = torch::autograd::grad({y1}, {x1}, {grad})[0];
    const torch::Tensor g2 = torch::autograd::grad({y2}, {x2}, {grad})[0];
    EXPECT_TRUE(torch::equal(g1, g2));
    EXPECT_TRUE(g1.is_contiguous(format)) << g1.strides();
  }
  const torch::Tensor x = torch::randn({2, 3, 4, 4});
  EXPECT_TRUE(detail::zero_pad_shortcut(x, 1, 3).is_same(x));  // nothing to do: x itself
  EXPECT_THAT([&] { detail::zero_pad_shortcut(x, 2, 2); },
              ThrowsMessage<c10::ValueError>(HasSubstr("out_channels >= its 3 channels")));
  EXPECT_THAT([&] { detail::zero_pad_shortcut(x, 0, 3); }, ThrowsMessage<c10::ValueError>(HasSubstr("stride >= 1")));
}

TEST_F(BlocksTest, SharedPreactivationFeedsTheShortcut) {
  // With the residual branch zeroed, the output is the shortcut: ReLU(BN(x)) when shared, x otherwise.
  const auto x = torch::randn({2, 4, 4, 4});
  for (bool shared : {false, true}) {
    PreActBlock block(PreActBlockOptions(4, 4, ReluMask::parse("11")).shared_preactivation(shared));
    block->eval();
    {
      torch::NoGradGuard no_grad;
      block->named_parameters()["conv2.weight"].zero_();
    }
    const auto expected = shared ? torch::relu(x / std::sqrt(1 + 2e-5)) : x;
    EXPECT_TRUE(torch::allclose(block(x), expected, 1e-5, 1e-6)) << "shared=" << shared;
  }
}

TEST_F(BlocksTest, RemovedFirstReluCanStayOnTheShortcut) {
  const auto x = torch::randn({2, 4, 4, 4});
  for (bool keeps : {false, true}) {
    PreActBlock block(
        PreActBlockOptions(4, 4, ReluMask::parse("01")).shared_preactivation(true).shortcut_keeps_relu(keeps));
    block->eval();
    {
      torch::NoGradGuard no_grad;
      block->named_parameters()["conv2.weight"].zero_();
    }
    const auto normed = x / std::sqrt(1 + 2e-5);
    EXPECT_TRUE(torch::allclose(block(x), keeps ? torch::relu(normed) : normed, 1e-5, 1e-6)) << "keeps=" << keeps;
  }
}

TEST_F(BlocksTest, BottleneckStrideSitsOnTheChosenConv) {
  PreActBottleneck first(PreActBottleneckOptions(64, 128, ReluMask::paired(3)).stride(2));
  PreActBottleneck middle(
      PreActBottleneckOptions(64, 128, ReluMask::paired(3)).stride(2).stride_on(BottleneckStride::kConv3x3));
  EXPECT_EQ(first->named_modules()["conv1"]->as<torch::nn::Conv2d>()->options.stride()->at(0), 2);
  EXPECT_EQ(middle->named_modules()["conv2"]->as<torch::nn::Conv2d>()->options.stride()->at(0), 2);
  EXPECT_EQ(first(torch::randn({1, 64, 8, 8})).sizes(), middle(torch::randn({1, 64, 8, 8})).sizes());
}

TEST_F(BlocksTest, MergeAndRunAveragesTheShortcutsIntoBothBranches) {
  MergeAndRun block(MergeAndRunOptions(4, 4, ReluMask::parse("0000")));
  {
    torch::NoGradGuard no_grad;  // zero residual branches: y1 = y2 = M = (x1 + x2) / 2
    for (auto& named : block->named_parameters()) {
      if (named.key().find("conv2") != std::string::npos) named.value().zero_();
    }
  }
  const auto x1 = torch::randn({1, 4, 4, 4}), x2 = torch::randn({1, 4, 4, 4});
  const auto [y1, y2] = block(x1, x2);
  EXPECT_TRUE(torch::allclose(y1, (x1 + x2) / 2));
  EXPECT_TRUE(torch::allclose(y2, (x1 + x2) / 2));
  EXPECT_TRUE(torch::allclose(block->forward_merged(x1, x2), (x1 + x2) / 2));
  block->options.final_merge(FinalMerge::kDoubleMerge);
  EXPECT_TRUE(torch::allclose(block->forward_merged(x1, x2), x1 + x2));
}

TEST_F(BlocksTest, MergeAndRunTypesDropTheNamedRelus) {
  const auto x = torch::randn({1, 8, 4, 4});
  auto relus = [&](const char* mask) {
    MergeAndRun block(MergeAndRunOptions(8, 8, ReluMask::parse(mask)));
    CountingScope scope;
    block(x, x);
    return scope.counts().relus;
  };
  EXPECT_EQ(relus("1111"), 4);
  EXPECT_EQ(relus("1011"), 3);
  EXPECT_EQ(relus("0111"), 3);
}

TEST_F(BlocksTest, ResidualStageNamesUnitsByIndex) {
  ResidualStage stage(ResidualStageOptions(BlockType::kPreAct, 16, 32, 3, ReluMask::parse("01")).stride(2));
  EXPECT_TRUE(stage->named_parameters().contains("0.conv1.weight"));
  EXPECT_TRUE(stage->named_parameters().contains("2.conv2.weight"));
  EXPECT_EQ(stage(torch::randn({1, 16, 8, 8})).sizes(), torch::IntArrayRef({1, 32, 4, 4}));
  std::ostringstream line;
  stage->pretty_print(line);
  EXPECT_EQ(line.str(), "propnet::ResidualStage(kind=preact, 16, 32, blocks=3, relu_mask=[0,1], stride=2)");
}

TEST_F(BlocksTest, PrettyPrintsReadLikeConstructorCalls) {
  auto print = [](const torch::nn::Module& m) {
    std::ostringstream line;
    m.pretty_print(line);
    return line.str();
  };
  EXPECT_EQ(print(*BasicBlock(BasicBlockOptions(16, 32, ReluMask::parse("01")).stride(2))),
            "propnet::BasicBlock(16, 32, relu_mask=[0,1], stride=2)");
  EXPECT_EQ(print(*PreActBlock(PreActBlockOptions(16, 32, ReluMask::parse("01")).stride(2).shared_preactivation(true))),
            "propnet::PreActBlock(16, 32, relu_mask=[0,1], stride=2, shortcut=A, shared_preactivation=true)");
  EXPECT_EQ(print(*MergeAndRun(MergeAndRunOptions(16, 32, ReluMask::parse("1011")).stride(2))),
            "propnet::MergeAndRun(16, 32, relu_mask=[1,0,1,1], stride=2)");
}

}  // namespace
}  // namespace propnet
