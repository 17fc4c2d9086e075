// Site gates: a gated forward equals the masked one, and the gate gradient is the first-order benefit
// of each ReLU, <dL/dy, relu(y) - y> (relu-search.md §3), checked analytically and by finite differences.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <c10/util/Exception.h>
#include <torch/autograd.h>
#include <torch/nn/functional/loss.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <propnet/models/registry.h>
#include <propnet/nn/op_counter.h>
#include <propnet/nn/proportional.h>
#include <propnet/nn/site_gates.h>

namespace propnet::models {
namespace {

NetworkSpec preresnet8(const std::string& mask) {
  NetworkSpec spec;
  spec.arch = "preresnet";
  spec.depth = 8;
  spec.mask = NetworkMask::bits(mask);
  return spec;
}

torch::Tensor gates_of(const std::string& mask, torch::ScalarType dtype = torch::kFloat) {
  const ReluMask m = ReluMask::parse(mask);
  std::vector<float> values;
  for (int64_t i = 0; i < m.units(); ++i) values.push_back(m.keeps(i) ? 1.f : 0.f);
  return torch::tensor(values).to(dtype);
}

TEST(SiteGatesTest, GatedForwardEqualsTheMaskedOne) {
  for (const bool training : {true, false}) {
    for (const std::string mask : {"11.11.11", "01.01.01", "10.00.11"}) {
      torch::manual_seed(3);
      Network masked = build_network(preresnet8(mask));
      torch::manual_seed(3);
      Network paired = build_network(preresnet8("11"));  // the same weights: no parameter depends on the mask
      masked->train(training);
      paired->train(training);
      const SiteGates gates = paired->site_gates();
      ASSERT_EQ(gates.size(), 6);
      const auto x = torch::randn({4, 3, 32, 32});
      torch::Tensor gated;
      {
        GateScope scope(gates, gates_of(mask));
        gated = paired->forward(x);
      }
      EXPECT_TRUE(torch::allclose(gated, masked->forward(x), 1e-5, 1e-6)) << mask << " training " << training;
    }
  }
}

TEST(SiteGatesTest, CountsFollowTheGatesAndFixedSitesStay) {
  Network net = build_network(preresnet8("11"));
  net->eval();
  const SiteGates gates = net->site_gates();
  GateScope scope(gates, gates_of("01.00.10"));
  CountingScope counting;
  torch::NoGradGuard no_grad;
  net->forward(torch::randn({1, 3, 32, 32}));
  std::vector<std::string> fired;
  for (const SiteEvent& e : named_sites(*net, counting)) {
    if (e.applied) fired.push_back(e.name);
  }
  EXPECT_THAT(fired, ::testing::ElementsAre("stage1.0.before_conv2", "stage3.0.before_conv1", "head.relu"));
}

TEST(SiteGatesTest, GateGradientIsTheReluBenefit) {
  // One conv-BN-[ReLU] unit: out = y + g (relu(y) - y) with y = BN(conv(x)), so for L = <w, out>,
  // dL/dg = <w, relu(y) - y>, computed here from y itself.
  torch::manual_seed(0);
  Proportional unit(ProportionalOptions(3, 4, ReluMask::parse("1")));
  unit->eval();
  SiteGates gates;
  gates.add(unit.get(), "0.after_conv", 0);
  const auto x = torch::randn({2, 3, 6, 6});
  const auto w = torch::randn({2, 4, 6, 6});
  const auto g = torch::full({1}, 0.3, torch::requires_grad());
  torch::Tensor loss;
  {
    GateScope scope(gates, g);
    loss = (unit->forward(x) * w).sum();
  }
  const auto dg = torch::autograd::grad({loss}, {g})[0];
  // y from the same module without its ReLU: gate 0.
  torch::Tensor y0;
  {
    torch::NoGradGuard no_grad;
    GateScope scope(gates, torch::zeros({1}));
    y0 = unit->forward(x);
  }
  const auto expected = (w * (torch::relu(y0) - y0)).sum();
  EXPECT_NEAR(dg.item<double>(), expected.item<double>(), 1e-4 * (1 + std::abs(expected.item<double>())));
}

TEST(SiteGatesTest, GateGradientMatchesFiniteDifferencesInDoublePrecision) {
  torch::manual_seed(1);
  Network net = build_network(preresnet8("11"));
  net->to(torch::kDouble);
  net->eval();
  const SiteGates gates = net->site_gates();
  const auto x = torch::randn({3, 3, 32, 32}, torch::kDouble);
  const auto labels = torch::tensor({1, 4, 7});
  auto loss_at = [&](const torch::Tensor& values) {
    GateScope scope(gates, values);
    return torch::nn::functional::cross_entropy(net->forward(x), labels);
  };
  const auto g = torch::full({6}, 0.5, torch::TensorOptions().dtype(torch::kDouble).requires_grad(true));
  const auto dg = torch::autograd::grad({loss_at(g)}, {g})[0];
  torch::NoGradGuard no_grad;
  const double eps = 1e-6;
  for (int64_t i = 0; i < 6; ++i) {
    auto plus = g.detach().clone(), minus = g.detach().clone();
    plus[i] += eps;
    minus[i] -= eps;
    const double fd = (loss_at(plus).item<double>() - loss_at(minus).item<double>()) / (2 * eps);
    EXPECT_NEAR(dg[i].item<double>(), fd, 1e-6 * (1 + std::abs(fd))) << "site " << i;
  }
}

TEST(SiteGatesTest, ScopeChecksItsValues) {
  Network net = build_network(preresnet8("11"));
  const SiteGates gates = net->site_gates();
  EXPECT_THROW(GateScope(gates, torch::ones({5})), c10::ValueError);
}

}  // namespace
}  // namespace propnet::models
