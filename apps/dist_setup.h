#pragma once
// The data-parallel side of `propnet train`: which device and threads a rank takes, its process
// group, and set-up work that rank 0 does for all.
#include <functional>
#include <memory>
#include <optional>

#include <c10/core/Device.h>

#include <propnet/dist/group.h>
#include <propnet/dist/launch.h>

namespace propnet::cli {

/// cuda:<local rank> for a data-parallel rank whose config asks for "auto" or "cuda" (one GPU per
/// rank; modulo the visible devices, for launchers that pin each rank to its GPU with
/// CUDA_VISIBLE_DEVICES); `device` otherwise.
c10::Device rank_device(const c10::Device& device, const std::optional<c10::Device>& requested,
                        const dist::LaunchEnv& launch);
/// The CPU threads to ask for: `requested`, or (0, several CPU ranks on this machine) the cores
/// divided among the local ranks.
int64_t rank_threads(int64_t requested, const c10::Device& device, const dist::LaunchEnv& launch);
/// The process group of a data-parallel launch (nullptr for one process); `timeout_s` bounds the
/// rendezvous and every collective.
std::shared_ptr<dist::Group> make_group(const dist::LaunchEnv& launch, const c10::Device& device, double timeout_s);
/// Runs `setup` on rank 0 only; every rank learns whether it worked, so that the others exit with a
/// clear message instead of waiting for rank 0 until the timeout.
void on_rank0_agreed(dist::Group* group, const c10::Device& device, const std::function<void()>& setup);

}  // namespace propnet::cli
