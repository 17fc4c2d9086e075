#include "graph_capture.h"

#include <exception>

#include <c10/util/Exception.h>

namespace propnet::train::detail {
namespace {

std::string message_of(const std::exception& e) {
  const auto* error = dynamic_cast<const c10::Error*>(&e);
  return error ? error->what_without_backtrace() : e.what();
}

}  // namespace

void capture_step(StreamCapture& capture, StepRunner& runner, const at::Tensor& images, const at::Tensor& labels,
                  const std::string& what) {
  const char* stage = "starting";
  try {
    capture.begin();
    stage = "recording";
    runner.run(images, labels);
    stage = "ending";
    capture.end();
  } catch (const std::exception& e) {
    capture.abort();  // ends the capture if one is still open, whichever stage threw
    TORCH_CHECK(false, "while capturing ", what, " into a CUDA graph (", stage, " the capture): ", message_of(e));
  }
}

}  // namespace propnet::train::detail
