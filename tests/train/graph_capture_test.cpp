// The error path of a CUDA graph capture, driven on the CPU through a fake capture: a GPU run that
// fails to capture must leave the stream out of capture mode and say what it was capturing.
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <c10/core/Device.h>
#include <c10/util/Exception.h>
#include <torch/types.h>

#include "train/graph_capture.h"

namespace propnet::train::detail {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

struct FakeCapture final : StreamCapture {
  void begin() override { calls.push_back("begin"); if (fail_at == "begin") throw std::runtime_error("begin failed"); }
  void end() override { calls.push_back("end"); if (fail_at == "end") throw std::runtime_error("capture invalidated"); }
  void abort() noexcept override { calls.push_back("abort"); }
  std::string fail_at;
  std::vector<std::string> calls;
};

struct FakeRunner final : StepRunner {
  explicit FakeRunner(std::vector<std::string>& calls, bool fail)
      : StepRunner(std::make_shared<DeviceSums>(c10::kCPU)), calls_(calls), fail_(fail) {}
  void run(const at::Tensor&, const at::Tensor&) override {
    calls_.push_back("run");
    TORCH_CHECK(!fail_, "operation not permitted when stream is capturing");
  }
  std::vector<std::string>& calls_;
  bool fail_;
};

TEST(GraphCaptureTest, ASuccessfulCaptureRecordsTheStepBetweenBeginAndEnd) {
  FakeCapture capture;
  FakeRunner runner(capture.calls, false);
  capture_step(capture, runner, torch::zeros({2, 1, 4, 4}), torch::zeros({2}, torch::kLong), "the training step");
  EXPECT_THAT(capture.calls, ElementsAre("begin", "run", "end"));
}

TEST(GraphCaptureTest, AFailureInsideTheCaptureAbortsItAndSaysWhatWasBeingCaptured) {
  FakeCapture capture;
  FakeRunner runner(capture.calls, true);
  EXPECT_THAT([&] { capture_step(capture, runner, torch::zeros({2}), torch::zeros({2}), "the training step (batch 2)"); },
              ThrowsMessage<c10::Error>(AllOf(HasSubstr("while capturing the training step (batch 2) into a CUDA graph "
                                                        "(recording the capture): "),
                                              HasSubstr("operation not permitted when stream is capturing"))));
  EXPECT_THAT(capture.calls, ElementsAre("begin", "run", "abort"));
}

TEST(GraphCaptureTest, FailuresToStartOrEndTheCaptureAreNamedToo) {
  for (const std::string stage : {"begin", "end"}) {
    FakeCapture capture;
    capture.fail_at = stage;
    FakeRunner runner(capture.calls, false);
    EXPECT_THAT([&] { capture_step(capture, runner, torch::zeros({2}), torch::zeros({2}), "the evaluation step"); },
                ThrowsMessage<c10::Error>(HasSubstr(stage == "begin" ? "(starting the capture): begin failed"
                                                                     : "(ending the capture): capture invalidated")));
    EXPECT_EQ(capture.calls.back(), "abort") << stage;
  }
}

}  // namespace
}  // namespace propnet::train::detail
