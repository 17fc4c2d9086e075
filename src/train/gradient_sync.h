#pragma once
// Data-parallel gradient averaging: the gradients are packed into a few flat buckets, each summed
// over the ranks with one all-reduce and divided by the world size, then copied back. A one-element
// flag rides in the last bucket so that the ranks agree, without another collective, on whether any
// of them was asked to stop.
#include <cstdint>
#include <memory>
#include <vector>

#include <ATen/core/Tensor.h>

#include <propnet/dist/group.h>

namespace propnet::train::detail {

class GradientSync {
 public:
  /// `gradients`: the optimizer's fixed gradient tensors (floating point, one device). Buckets hold
  /// about `bucket_bytes` each.
  GradientSync(std::shared_ptr<dist::Group> group, std::vector<at::Tensor> gradients,
               int64_t bucket_bytes = 25 << 20);

  /// Sets this rank's stop request for the next `run()`.
  void set_stop_flag(bool stop);
  /// Averages the gradients over the ranks (and sums the stop flags).
  void run();
  /// Whether any rank's stop flag was set at the last `run()` (reads the device).
  bool any_stop() const;

  const std::shared_ptr<dist::Group>& group() const { return group_; }

 private:
  std::shared_ptr<dist::Group> group_;
  std::vector<at::Tensor> gradients_;
  std::vector<std::pair<size_t, size_t>> buckets_;  // [begin, end) into gradients_
  at::Tensor flag_;                                 // one element, gradients' dtype and device
  at::Tensor summed_flag_;                          // flag after the last run()
};

}  // namespace propnet::train::detail
