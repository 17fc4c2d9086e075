#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/nn/functional/loss.h>
#include <torch/optim/sgd.h>
#include <torch/serialize/archive.h>

#include <propnet/models/network.h>
#include <propnet/train/sgd.h>
#include "support.h"

namespace propnet::train {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

models::Network small_network() {
  torch::manual_seed(0);
  models::NetworkSpec spec;
  spec.arch = "preresnet";
  spec.depth = 8;
  return models::Network(spec);
}

// One forward/backward on a fixed random batch; leaves the gradients in the parameters.
void backward(models::Network& net, int64_t step) {
  torch::manual_seed(100 + step);
  const auto x = torch::randn({8, 3, 32, 32});
  const auto y = torch::randint(0, 10, {8}, torch::kLong);
  torch::nn::functional::cross_entropy(net->forward(x), y).backward();
}

struct SgdCase {
  double momentum;
  bool nesterov;
  double weight_decay;
};

class SgdEquivalenceTest : public ::testing::TestWithParam<SgdCase> {};

TEST_P(SgdEquivalenceTest, MatchesTorchOptimSgdBitwiseOnCpu) {
  const SgdCase c = GetParam();
  auto reference_net = small_network();
  auto net = small_network();
  torch::optim::SGD reference(reference_net->parameters(), torch::optim::SGDOptions(0.1)
                                                               .momentum(c.momentum)
                                                               .nesterov(c.nesterov)
                                                               .weight_decay(c.weight_decay));
  MultiTensorSGD optimizer(net->parameters(),
                           SGDOptions(0.1).momentum(c.momentum).nesterov(c.nesterov).weight_decay(c.weight_decay));
  for (int64_t step = 0; step < 4; ++step) {
    if (step == 2) {  // an lr drop mid-way, as the schedule does
      static_cast<torch::optim::SGDOptions&>(reference.param_groups()[0].options()).lr(0.01);
      optimizer.set_lr(0.01);
    }
    reference.zero_grad();
    optimizer.zero_grad();
    backward(reference_net, step);
    backward(net, step);
    reference.step();
    optimizer.step();
  }
  const auto expected = reference_net->named_parameters();
  for (const auto& p : net->named_parameters()) {
    EXPECT_TRUE(torch::equal(p.value(), expected[p.key()])) << p.key();
  }
  for (const auto& b : net->named_buffers()) {  // BN running statistics saw the same batches
    EXPECT_TRUE(torch::equal(b.value(), reference_net->named_buffers()[b.key()])) << b.key();
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, SgdEquivalenceTest,
                         ::testing::Values(SgdCase{0.9, true, 1e-4}, SgdCase{0.9, false, 1e-4}, SgdCase{0.0, false, 0.0},
                                           SgdCase{0.5, true, 0.0}),
                         [](const ::testing::TestParamInfo<SgdCase>& info) {
                           const SgdCase& c = info.param;
                           return std::string(c.nesterov ? "Nesterov" : "HeavyBall") + "Momentum" +
                                  std::to_string(static_cast<int>(c.momentum * 10)) +
                                  (c.weight_decay > 0 ? "WithDecay" : "NoDecay");
                         });

TEST(MultiTensorSgdTest, SaveAndLoadResumeTheSameTrajectory) {
  auto net = small_network();
  MultiTensorSGD optimizer(net->parameters(), SGDOptions(0.1));
  backward(net, 0);
  optimizer.step();

  torch::serialize::OutputArchive model_archive, optimizer_archive;
  net->save(model_archive);
  optimizer.save(optimizer_archive);
  std::stringstream model_bytes, optimizer_bytes;
  model_archive.save_to(model_bytes);
  optimizer_archive.save_to(optimizer_bytes);

  auto resumed = small_network();  // other storage; load() moves the parameters into the saved values
  MultiTensorSGD resumed_optimizer(resumed->parameters(), SGDOptions(0.1));
  torch::serialize::InputArchive model_in, optimizer_in;
  model_in.load_from(model_bytes);
  optimizer_in.load_from(optimizer_bytes);
  resumed->load(model_in);
  resumed_optimizer.load(optimizer_in);

  optimizer.zero_grad();
  resumed_optimizer.zero_grad();
  backward(net, 1);
  backward(resumed, 1);
  optimizer.step();
  resumed_optimizer.step();
  const auto expected = net->named_parameters();
  for (const auto& p : resumed->named_parameters()) {
    EXPECT_TRUE(torch::equal(p.value(), expected[p.key()])) << p.key();
  }
}

TEST(MultiTensorSgdTest, ZeroGradKeepsTheGradientTensors) {
  auto net = small_network();
  MultiTensorSGD optimizer(net->parameters(), SGDOptions(0.1));
  const void* before = optimizer.gradients().front().data_ptr();
  backward(net, 0);
  EXPECT_GT(optimizer.gradients().front().abs().sum().item<double>(), 0);
  optimizer.zero_grad();
  EXPECT_EQ(optimizer.gradients().front().abs().sum().item<double>(), 0);
  EXPECT_EQ(optimizer.gradients().front().data_ptr(), before);
  EXPECT_EQ(net->parameters().front().grad().data_ptr(), before);  // autograd accumulates into them
}

TEST(MultiTensorSgdTest, RejectsBadOptionsAndMismatchedArchives) {
  auto net = small_network();
  EXPECT_THAT([&] { MultiTensorSGD(net->parameters(), SGDOptions(0.0)); }, ThrowsMessage<c10::ValueError>(HasSubstr("expected lr > 0")));
  EXPECT_THAT([&] { MultiTensorSGD(net->parameters(), SGDOptions(0.1).momentum(0).nesterov(true)); }, ThrowsMessage<c10::ValueError>(HasSubstr("Nesterov momentum needs momentum > 0")));
  EXPECT_THAT([&] { MultiTensorSGD(net->parameters(), SGDOptions(0.1).momentum(1.5)); }, ThrowsMessage<c10::ValueError>(HasSubstr("expected momentum in [0, 1)")));
  EXPECT_THAT([&] { MultiTensorSGD({}, SGDOptions(0.1)); }, ThrowsMessage<c10::ValueError>(HasSubstr("no parameters")));

  MultiTensorSGD optimizer(net->parameters(), SGDOptions(0.1));
  torch::serialize::OutputArchive out;
  MultiTensorSGD(std::vector<at::Tensor>{net->parameters().front()}, SGDOptions(0.1)).save(out);
  std::stringstream bytes;
  out.save_to(bytes);
  torch::serialize::InputArchive in;
  in.load_from(bytes);
  EXPECT_THAT([&] { optimizer.load(in); }, ThrowsMessage<c10::Error>(HasSubstr("the archive holds 1 momentum buffers")));
}

TEST(MultiTensorSgdTest, ReplacedGradientsAreAnErrorNotASilentNoOp) {
  auto net = small_network();
  MultiTensorSGD optimizer(net->parameters(), SGDOptions(0.1));
  net->parameters().front().mutable_grad() = torch::Tensor();  // what Module::zero_grad() does in LibTorch 2.x
  backward(net, 0);
  EXPECT_THAT([&] { optimizer.step(); }, ThrowsMessage<c10::Error>(HasSubstr("call MultiTensorSGD::zero_grad()")));
}

}  // namespace
}  // namespace propnet::train
