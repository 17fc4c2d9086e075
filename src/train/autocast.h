#pragma once
// What the CUDA graph runners need of autocast beyond <propnet/train/precision.h>'s scope. Autocast's C++
// API changed in LibTorch 2.4 (device-agnostic names); the difference stays in autocast.cpp.
#include <propnet/train/precision.h>

namespace propnet::train::detail {

/// Turns autocast's weight-cast cache off for its lifetime: a CUDA graph must record the casts
/// themselves, not reuse tensors cast before the capture (torch.cuda.graphs requires the same).
class AutocastCacheOff {
 public:
  AutocastCacheOff();
  ~AutocastCacheOff();
  AutocastCacheOff(const AutocastCacheOff&) = delete;
  AutocastCacheOff& operator=(const AutocastCacheOff&) = delete;

 private:
  bool previous_;
};

}  // namespace propnet::train::detail
