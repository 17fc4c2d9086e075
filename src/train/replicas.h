#pragma once
// Checks that keep data-parallel ranks honest: the same checkpoint, and the same weights after each epoch.
#include <filesystem>

#include <propnet/dist/group.h>

#include "checkpoint.h"

namespace torch::nn {
class Module;
}

namespace propnet::train::detail {

/// Throws on every rank unless all ranks resume from the same place as rank 0 (whether a checkpoint
/// exists, its epoch, step and finished flag): a data-parallel run needs its run folder on a shared
/// filesystem. Zeroes the partial sums of ranks other than 0 (rank 0's checkpoint holds all ranks').
void agree_on_checkpoint(dist::Group& group, const c10::Device& device, bool has_checkpoint, Progress& progress,
                         const std::filesystem::path& dir);

/// Throws on every rank unless all ranks hold bitwise the same parameters and buffers as rank 0.
void check_replicas(dist::Group& group, torch::nn::Module& module, int64_t epoch);

/// The module's parameters and buffers, in one list (what data-parallel ranks keep equal).
std::vector<at::Tensor> state_tensors(torch::nn::Module& module);

}  // namespace propnet::train::detail
