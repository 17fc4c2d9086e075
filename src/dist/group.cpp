#include <propnet/dist/group.h>

#include <exception>
#include <map>
#include <utility>

#include <ATen/core/grad_mode.h>
#include <ATen/ops/cat.h>
#include <c10/util/Exception.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/Types.hpp>

#include "backend.h"

namespace propnet::dist {
namespace {

double seconds(std::chrono::milliseconds ms) { return static_cast<double>(ms.count()) / 1000.0; }

}  // namespace

Group::Group(std::unique_ptr<Impl> impl, int64_t rank, int64_t world_size, std::string backend, GroupOptions options)
    : impl_(std::move(impl)),
      rank_(rank),
      world_size_(world_size),
      backend_name_(std::move(backend)),
      options_(options) {}

Group::~Group() {
  if (!impl_ || backend_name_ != "nccl") return;
  // On a normal exit every rank gets here: meet once more so that no rank tears its communicators
  // down while another still uses them. Leaving on an error, other ranks may be gone: no barrier.
  if (std::uncaught_exceptions() == 0) {
    try {
      barrier();
    } catch (...) {
      // Already reported by the rank that failed.
    }
  }
  shutdown_nccl_backend(*impl_->backend);
}

std::shared_ptr<Group> Group::create(const LaunchEnv& env, const c10::Device& device, GroupOptions options) {
  TORCH_CHECK_VALUE(env.world_size >= 1 && env.rank >= 0 && env.rank < env.world_size,
                    "dist: expected 0 <= rank < world_size (got rank ", env.rank, ", world_size ", env.world_size, ")");
  TORCH_CHECK_VALUE(options.timeout.count() > 0, "dist: expected a timeout > 0 (got ", options.timeout.count(), " ms)");
  const bool cuda = device.is_cuda();
  TORCH_CHECK_VALUE(cuda || gloo_available(),
                    "dist: expected a build with Gloo for data-parallel training on the CPU (got one without: "
                    "LibTorch's ProcessGroupGloo.hpp did not compile with the gloo headers found; on Debian "
                    "install libgloo-dev and rebuild, or train on CUDA devices with NCCL)");
  TORCH_CHECK_VALUE(!cuda || nccl_available(),
                    "dist: expected a CUDA build of propnet for NCCL on ", device.str(), " (got a CPU-only build)");

  // Rank 0 hosts the store unless torchrun's agent already does (TORCHELASTIC_USE_AGENT_STORE):
  // then every rank is a client. One prefix per elastic attempt keeps restarts apart.
  c10d::TCPStoreOptions store_options;
  store_options.port = static_cast<std::uint16_t>(env.master_port);
  store_options.isServer = !env.agent_store && env.rank == 0;
  store_options.numWorkers = static_cast<std::size_t>(env.world_size);
  store_options.waitWorkers = false;
  store_options.timeout = options.timeout;
  store_options.multiTenant = true;
  auto impl = std::make_unique<Impl>();
  try {
    c10::intrusive_ptr<c10d::Store> tcp = c10::make_intrusive<c10d::TCPStore>(env.master_addr, store_options);
    impl->store = c10::make_intrusive<c10d::PrefixStore>("/propnet/attempt_" + env.restart_count, tcp);
    const int rank = static_cast<int>(env.rank), world = static_cast<int>(env.world_size);
    impl->backend = cuda ? make_nccl_backend(impl->store, rank, world, options.timeout, device.has_index() ? device.index() : 0)
                         : make_gloo_backend(impl->store, rank, world, options.timeout, env.master_addr);
  } catch (const c10::ValueError&) {
    throw;
  } catch (const std::exception& e) {
    TORCH_CHECK(false, "dist: rank ", env.rank, " of ", env.world_size, " could not join the group at ",
                env.master_addr, ":", env.master_port, " within ", seconds(options.timeout),
                " s (a rank did not start, or the address is wrong): ", e.what());
  }
  return std::shared_ptr<Group>(
      new Group(std::move(impl), env.rank, env.world_size, cuda ? "nccl" : "gloo", options));
}

namespace {

template <typename Run>
void run_collective(const Group& group, const char* what, Run run) {
  try {
    run()->wait();
  } catch (const std::exception& e) {
    TORCH_CHECK(false, "dist: ", what, " failed on rank ", group.rank(), " of ", group.world_size(),
                ": another rank exited or stopped answering (limit ", seconds(group.options().timeout),
                " s): ", e.what());
  }
}

}  // namespace

void Group::allreduce_sum(at::Tensor& tensor) {
  std::vector<at::Tensor> tensors{tensor};
  c10d::AllreduceOptions options;
  options.reduceOp = c10d::ReduceOp::SUM;
  run_collective(*this, "all-reduce", [&] { return impl_->backend->allreduce(tensors, options); });
}

void Group::broadcast(at::Tensor& tensor, int64_t root) {
  std::vector<at::Tensor> tensors{tensor};
  c10d::BroadcastOptions options;
  options.rootRank = root;
  options.rootTensor = 0;
  run_collective(*this, "broadcast", [&] { return impl_->backend->broadcast(tensors, options); });
}

void Group::barrier() {
  run_collective(*this, "barrier", [&] { return impl_->backend->barrier(); });
}

namespace {

// Applies `collective` to one flat copy of `tensors` per (dtype, device) and copies the result back.
template <typename Collective>
void over_flat_buffers(const std::vector<at::Tensor>& tensors, bool floating_only, Collective collective) {
  at::NoGradGuard no_grad;
  std::map<std::pair<int, std::string>, std::vector<at::Tensor>> groups;  // (dtype, device) -> tensors
  for (const auto& t : tensors) {
    if (!t.defined() || t.numel() == 0 || (floating_only && !t.is_floating_point())) continue;
    groups[{static_cast<int>(t.scalar_type()), t.device().str()}].push_back(t);
  }
  for (auto& [key, members] : groups) {
    std::vector<at::Tensor> flat_views;
    flat_views.reserve(members.size());
    for (const auto& t : members) flat_views.push_back(t.reshape(-1));
    at::Tensor flat = at::cat(flat_views);
    collective(flat);
    int64_t offset = 0;
    for (auto& t : members) {
      t.copy_(flat.narrow(0, offset, t.numel()).view(t.sizes()));
      offset += t.numel();
    }
  }
}

}  // namespace

void Group::broadcast_all(const std::vector<at::Tensor>& tensors, int64_t root) {
  over_flat_buffers(tensors, /*floating_only=*/false, [&](at::Tensor& flat) { broadcast(flat, root); });
}

void Group::average_all(const std::vector<at::Tensor>& tensors) {
  over_flat_buffers(tensors, /*floating_only=*/true, [&](at::Tensor& flat) {
    allreduce_sum(flat);
    flat.mul_(1.0 / static_cast<double>(world_size_));
  });
}

}  // namespace propnet::dist
