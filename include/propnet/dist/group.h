#pragma once
// A data-parallel process group on PyTorch's c10d: Gloo on CPUs, NCCL on CUDA GPUs. Propnet's own
// collectives (gradient buckets, BN buffers, metrics) go through it; c10d stays out of the headers.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <propnet/dist/launch.h>

namespace propnet::dist {

/// Options of `Group::create`.
struct GroupOptions {
  /// Limit of every collective and of the rendezvous: a rank that died or hangs makes the others
  /// fail after this long instead of waiting forever.
  std::chrono::milliseconds timeout{std::chrono::minutes(10)};
};

/// The ranks of one launch and the collectives propnet needs. Every rank must call the same
/// collectives in the same order with tensors of the same shape and dtype. A collective that fails
/// (a peer exited, or `timeout` passed) throws c10::Error saying so; the group is then unusable.
///
/// Example (two processes started by torchrun):
/// ```
/// auto group = Group::create(detect_launch(), at::kCPU);   // Gloo over TCP
/// at::Tensor t = at::ones({4});
/// group->allreduce_sum(t);                                 // 2 2 2 2 on both ranks
/// ```
class Group {
 public:
  /// Rendezvous through a c10d TCPStore at env.master_addr:master_port (hosted by rank 0, or by
  /// torchrun's agent when env.agent_store) and creates ProcessGroupNCCL for a CUDA `device`,
  /// ProcessGroupGloo for the CPU. Throws c10::ValueError when the backend is not in this build.
  static std::shared_ptr<Group> create(const LaunchEnv& env, const c10::Device& device, GroupOptions options = {});
  virtual ~Group();

  int64_t rank() const { return rank_; }
  int64_t world_size() const { return world_size_; }
  /// "gloo" or "nccl".
  const std::string& backend() const { return backend_name_; }
  const GroupOptions& options() const { return options_; }

  /// Sums `tensor` over the ranks, in place; blocks until done (every rank gets the same bits).
  void allreduce_sum(at::Tensor& tensor);
  /// Copies rank `root`'s `tensor` into every rank's, in place.
  void broadcast(at::Tensor& tensor, int64_t root = 0);
  /// Returns when every rank has called it.
  void barrier();

  /// Broadcasts many tensors from `root` (e.g. a model's parameters and buffers), one flattened
  /// buffer per dtype and device instead of one collective per tensor.
  void broadcast_all(const std::vector<at::Tensor>& tensors, int64_t root = 0);
  /// Replaces every tensor by its mean over the ranks (floating-point tensors; others are left as
  /// they are), one flattened buffer per dtype and device. Every rank gets the same bits.
  void average_all(const std::vector<at::Tensor>& tensors);

  struct Impl;  // the c10d objects; src/dist/

 private:
  Group(std::unique_ptr<Impl> impl, int64_t rank, int64_t world_size, std::string backend, GroupOptions options);
  std::unique_ptr<Impl> impl_;
  int64_t rank_;
  int64_t world_size_;
  std::string backend_name_;
  GroupOptions options_;
};

/// True when this build can create a Gloo (CPU) group: LibTorch's ProcessGroupGloo.hpp compiled
/// with the gloo headers found (Debian's libgloo-dev for LibTorch 1.13; the PyPI wheel ships none).
bool gloo_available();
/// True when this build can create an NCCL (CUDA) group.
bool nccl_available();

}  // namespace propnet::dist
