#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/types.h>

#include <propnet/nn/op_counter.h>
#include <propnet/nn/proportional.h>
#include "support.h"

namespace propnet {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

class ProportionalTest : public test::Seeded {};

TEST_F(ProportionalTest, TwoToOneModuleKeepsOnlyTheLastRelu) {
  Proportional unit(ProportionalOptions(8, 8, {false, true}));
  unit->eval();
  CountingScope scope;
  const auto y = unit(torch::randn({4, 8, 6, 6}));
  EXPECT_EQ(y.sizes(), torch::IntArrayRef({4, 8, 6, 6}));
  EXPECT_TRUE((y >= 0).all().item<bool>());
  EXPECT_EQ(scope.counts().convs, 2);
  EXPECT_EQ(scope.counts().relus, 1);
  EXPECT_EQ(unit->options.relu_mask().ratio(), "2:1");
}

TEST_F(ProportionalTest, RemovingAReluKeepsItsBatchNorm) {
  Proportional paired(ProportionalOptions(4, 4, ReluMask::paired(2)));
  Proportional proportional(ProportionalOptions(4, 4, {false, true}));
  EXPECT_EQ(paired->named_parameters().keys(), proportional->named_parameters().keys());
  EXPECT_TRUE(proportional->named_parameters().contains("bn0.weight"));
}

TEST_F(ProportionalTest, StrideDownsamplesOnlyInTheFirstUnit) {
  Proportional unit(ProportionalOptions(3, 16, ReluMask::paired(3)).stride(2));
  EXPECT_EQ(unit(torch::randn({2, 3, 32, 32})).sizes(), torch::IntArrayRef({2, 16, 16, 16}));
}

TEST_F(ProportionalTest, WithoutReluIsAffineInEvalMode) {  // mask {0,0}: no nonlinearity left
  Proportional unit(ProportionalOptions(4, 4, {false, false}));
  unit->eval();
  const auto a = torch::randn({2, 4, 5, 5}), b = torch::randn({2, 4, 5, 5});
  const auto zero = unit(torch::zeros_like(a));
  EXPECT_TRUE(torch::allclose(unit(a + b) - zero, (unit(a) - zero) + (unit(b) - zero), 1e-4, 1e-5));
}

TEST_F(ProportionalTest, PairedMatchesAHandBuiltConvBnReluChain) {
  Proportional unit(ProportionalOptions(3, 6, ReluMask::paired(2)).stride(2));
  torch::nn::Sequential reference(
      torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 6, 3).stride(2).padding(1).bias(false)),
      torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(6).eps(2e-5)), torch::nn::ReLU(),
      torch::nn::Conv2d(torch::nn::Conv2dOptions(6, 6, 3).padding(1).bias(false)),
      torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(6).eps(2e-5)), torch::nn::ReLU());
  {
    torch::NoGradGuard no_grad;
    reference->ptr(0)->as<torch::nn::Conv2d>()->weight.copy_(unit->named_parameters()["conv0.weight"]);
    reference->ptr(3)->as<torch::nn::Conv2d>()->weight.copy_(unit->named_parameters()["conv1.weight"]);
  }
  const auto x = torch::randn({2, 3, 8, 8});
  EXPECT_TRUE(torch::allclose(unit(x), reference->forward(x), 1e-5, 1e-6));  // training-mode BN too
}

TEST_F(ProportionalTest, PreOrderNormalisesTheInputChannels) {
  Proportional unit(ProportionalOptions(3, 8, {false, true}).order(Order::kPre));
  EXPECT_EQ(unit->named_parameters()["bn0.weight"].size(0), 3);
  EXPECT_EQ(unit(torch::randn({2, 3, 8, 8})).sizes(), torch::IntArrayRef({2, 8, 8, 8}));
}

TEST_F(ProportionalTest, RejectsNon4dInputWithAClearMessage) {
  Proportional unit(ProportionalOptions(3, 8, ReluMask::paired(2)));
  EXPECT_THAT([&] { unit(torch::randn({3, 8, 8})); },
              ThrowsMessage<c10::Error>(HasSubstr("expected 4D input (got 3D input)")));
}

TEST_F(ProportionalTest, PrettyPrintReadsLikeTheConstructorCall) {
  Proportional unit(ProportionalOptions(16, 32, {false, true}).stride(2));
  std::ostringstream line;
  unit->pretty_print(line);
  EXPECT_EQ(line.str(), "propnet::Proportional(16, 32, relu_mask=[0,1], stride=2, order=post)");
}

TEST_F(ProportionalTest, CloneIsIndependent) {
  Proportional unit(ProportionalOptions(4, 4, {false, true}));
  auto copy = std::dynamic_pointer_cast<ProportionalImpl>(unit->clone());
  ASSERT_TRUE(copy);
  {
    torch::NoGradGuard no_grad;
    copy->named_parameters()["conv0.weight"].fill_(0.5);
  }
  EXPECT_FALSE(torch::equal(copy->named_parameters()["conv0.weight"], unit->named_parameters()["conv0.weight"]));
  EXPECT_EQ(copy->options.relu_mask(), unit->options.relu_mask());
}

}  // namespace
}  // namespace propnet
