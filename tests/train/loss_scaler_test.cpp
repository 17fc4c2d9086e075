// fp16's dynamic loss scaling with synthetic gradients: the same code the CUDA fp16 step runs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <c10/util/Exception.h>
#include <torch/types.h>

#include "train/loss_scaler.h"

namespace propnet::train::detail {
namespace {

LossScalerOptions small_interval() {
  LossScalerOptions o;
  o.initial_scale = 1024;
  o.growth_interval = 3;
  return o;
}

TEST(LossScalerTest, ScalesTheLossAndUnscalesCleanGradients) {
  LossScaler scaler(small_interval());
  EXPECT_TRUE(torch::equal(scaler.scale(torch::tensor(0.5f)), torch::tensor(512.0f)));
  std::vector<torch::Tensor> grads{torch::full({3}, 2048.0), torch::Tensor(), torch::full({2, 2}, -1024.0)};
  EXPECT_TRUE(scaler.unscale(grads));
  EXPECT_TRUE(torch::equal(grads[0], torch::full({3}, 2.0)));
  EXPECT_TRUE(torch::equal(grads[2], torch::full({2, 2}, -1.0)));
  EXPECT_FALSE(grads[1].defined());
}

TEST(LossScalerTest, GrowsAfterTheIntervalOfCleanSteps) {
  LossScaler scaler(small_interval());
  for (int step = 1; step <= 3; ++step) {
    std::vector<torch::Tensor> grads{torch::ones({4})};
    ASSERT_TRUE(scaler.unscale(grads));
    scaler.update();
    EXPECT_EQ(scaler.current_scale(), step < 3 ? 1024.0 : 2048.0) << "step " << step;
    EXPECT_EQ(scaler.clean_steps(), step % 3);
  }
}

TEST(LossScalerTest, InfOrNanSkipsTheStepBacksOffAndRestartsTheCount) {
  LossScaler scaler(small_interval());
  std::vector<torch::Tensor> clean{torch::ones({4})};
  ASSERT_TRUE(scaler.unscale(clean));
  scaler.update();
  ASSERT_EQ(scaler.clean_steps(), 1);
  for (const float bad : {std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                          std::numeric_limits<float>::quiet_NaN()}) {
    std::vector<torch::Tensor> grads{torch::ones({4}), torch::tensor({1.0f, bad})};
    EXPECT_FALSE(scaler.unscale(grads)) << bad;
    scaler.update();
    EXPECT_EQ(scaler.clean_steps(), 0);
  }
  EXPECT_EQ(scaler.current_scale(), 1024.0 / 8);
  // Two clean steps after a back-off do not grow it yet; the third does.
  for (int step = 0; step < 3; ++step) {
    std::vector<torch::Tensor> grads{torch::ones({4})};
    ASSERT_TRUE(scaler.unscale(grads));
    scaler.update();
  }
  EXPECT_EQ(scaler.current_scale(), 1024.0 / 4);
}

TEST(LossScalerTest, DefaultsAreGradScalers) {
  const LossScaler scaler;
  EXPECT_EQ(scaler.current_scale(), 65536.0);
  EXPECT_THAT([] { LossScaler(LossScalerOptions{1, 0.5, 0.5, 1}); },
              ::testing::ThrowsMessage<c10::ValueError>(::testing::HasSubstr("LossScaler: expected")));
}

}  // namespace
}  // namespace propnet::train::detail
