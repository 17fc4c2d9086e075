// What a bf16 training step on the CPU converts: under autocast, only what autocast must.
#include <atomic>
#include <memory>
#include <string_view>

#include <gtest/gtest.h>
#include <ATen/record_function.h>
#include <c10/core/Device.h>
#include <torch/nn/functional/loss.h>
#include <torch/types.h>

#include <propnet/models/registry.h>
#include <propnet/train/precision.h>

namespace propnet::train {
namespace {

std::atomic<int64_t> conversions{0};

std::unique_ptr<at::ObserverContext> count_conversion(const at::RecordFunction& fn) {
  if (std::string_view(fn.name()) == "aten::_to_copy") ++conversions;
  return nullptr;
}

struct StepConversions {
  int64_t conversions = 0;
  int64_t weights = 0;  ///< conv and linear weights: what autocast casts to bf16
};

// One bf16 forward and backward of preresnet-`depth` (channels_last, as the CPU default), counting every
// tensor conversion (aten::_to_copy) while it runs.
StepConversions bf16_step_conversions(int64_t depth) {
  models::NetworkSpec spec;
  spec.arch = "preresnet";
  spec.depth = depth;
  torch::manual_seed(0);
  models::Network net = models::build_network(spec);
  StepConversions out;
  for (auto& p : net->parameters()) {
    if (p.dim() == 4) p.set_data(p.data().contiguous(at::MemoryFormat::ChannelsLast));
    if (p.dim() >= 2) ++out.weights;
  }
  const torch::Tensor x = torch::randn({4, 3, 32, 32}).contiguous(at::MemoryFormat::ChannelsLast);
  const torch::Tensor labels = torch::randint(0, 10, {4});
  conversions = 0;
  const auto handle = at::addThreadLocalCallback(at::RecordFunctionCallback(count_conversion));
  {
    AutocastScope autocast(c10::Device("cpu"), Amp::kBf16);
    torch::cross_entropy_loss(net->forward(x), labels).backward();
  }
  at::removeCallback(handle);
  out.conversions = conversions;
  return out;
}

// Each conv or linear weight is cast to bf16 and its gradient back to fp32: two conversions per weight, plus a
// few per step (the input, the logits for the loss, the linear bias, their gradients). Nothing per BN + ReLU:
// a deeper network adds exactly two conversions per added weight, so the activations stay bf16 between layers
// (the fused BN+ReLU kernels take them as they are, and update the fp32 statistics without scalar ops).
TEST(PrecisionTest, Bf16CpuStepConvertsTheWeightsNotTheActivations) {
  const StepConversions shallow = bf16_step_conversions(20), deep = bf16_step_conversions(56);
  ASSERT_EQ(deep.weights - shallow.weights, 36);
  EXPECT_EQ(deep.conversions - shallow.conversions, 2 * (deep.weights - shallow.weights));
  EXPECT_GE(shallow.conversions, 2 * shallow.weights);
  // The step's own few: 7 with LibTorch 1.13, 9 with 2.15 (the loss converts a little more there).
  EXPECT_LE(shallow.conversions, 2 * shallow.weights + 10) << "conversions beyond the weights, input and logits";
}

}  // namespace
}  // namespace propnet::train
