#pragma once
// The c10d side of dist::Group: the backend base class, which differs between LibTorch 1.13
// (backends derive from c10d::ProcessGroup) and 2.x (from c10d::Backend), and the factories that
// exist only where their backend was compiled in (gloo_backend*.cpp, cuda/nccl_backend_*.cpp).
#include <chrono>
#include <string>

#include <c10/util/intrusive_ptr.h>
#include <torch/csrc/distributed/c10d/Store.hpp>

#include "../compat.h"

#if PROPNET_TORCH_AT_LEAST(2, 0)
#include <torch/csrc/distributed/c10d/Backend.hpp>
#else
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#endif

#include <propnet/dist/group.h>

namespace propnet::dist {

#if PROPNET_TORCH_AT_LEAST(2, 0)
using BackendBase = c10d::Backend;
#else
using BackendBase = c10d::ProcessGroup;
#endif

struct Group::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<BackendBase> backend;
};

/// ProcessGroupGloo over `store`; `master_addr` picks the network device (loopback stays loopback,
/// GLOO_SOCKET_IFNAME names an interface). Throws c10::ValueError in builds without Gloo.
c10::intrusive_ptr<BackendBase> make_gloo_backend(const c10::intrusive_ptr<c10d::Store>& store, int rank, int world,
                                                  std::chrono::milliseconds timeout, const std::string& master_addr);
/// ProcessGroupNCCL over `store` on CUDA device `device_index` (made the current device). Throws
/// c10::ValueError in CPU builds.
c10::intrusive_ptr<BackendBase> make_nccl_backend(const c10::intrusive_ptr<c10d::Store>& store, int rank, int world,
                                                  std::chrono::milliseconds timeout, int device_index);
/// Shuts a NCCL backend down (communicators destroyed); never throws. A no-op in CPU builds.
void shutdown_nccl_backend(BackendBase& backend) noexcept;

}  // namespace propnet::dist
