#pragma once
// Capturing one step into a CUDA graph with the error path a first GPU run needs: if anything throws
// between the start and the end of a capture, the capture is ended and dropped (the stream leaves
// capture mode, so later work on it does not fail with a second, misleading error) and the error is
// rethrown naming what was being captured. Device-independent, so that a CPU test drives it with a
// fake capture.
#include <string>

#include <ATen/core/Tensor.h>

#include "step_runner.h"

namespace propnet::train::detail {

/// One stream capture.
class StreamCapture {
 public:
  virtual ~StreamCapture() = default;
  /// Starts recording the current stream's work.
  virtual void begin() = 0;
  /// Ends the recording and keeps the graph.
  virtual void end() = 0;
  /// After a failure in any of the above: ends the recording if one is open and drops what it
  /// made; never throws.
  virtual void abort() noexcept = 0;
};

/// Records `runner.run(images, labels)` into `capture`. An exception from any of the three is
/// rethrown, after `capture.abort()`, as a c10::Error "while capturing <what> into a CUDA graph
/// (<stage> the capture): <the error>".
void capture_step(StreamCapture& capture, StepRunner& runner, const at::Tensor& images, const at::Tensor& labels,
                  const std::string& what);

}  // namespace propnet::train::detail
