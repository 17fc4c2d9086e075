#pragma once
// Where this process stands in a data-parallel launch, read from the environment that torchrun,
// SLURM's srun or a plain shell loop sets. No process group is created here (see group.h).
#include <cstdint>
#include <functional>
#include <string>

namespace propnet::dist {

/// One process's place in a launch; `world_size` 1 means a single-process run.
struct LaunchEnv {
  int64_t rank = 0;
  int64_t world_size = 1;
  int64_t local_rank = 0;        ///< Rank on this node: picks the GPU (cuda:<local_rank>).
  int64_t local_world_size = 1;  ///< Ranks on this node (splits the CPU cores between them).
  std::string master_addr;       ///< Host of the rendezvous store (MASTER_ADDR).
  int64_t master_port = 0;       ///< Its port (MASTER_PORT).
  /// torchrun's agent already hosts the store at master_addr:master_port
  /// (TORCHELASTIC_USE_AGENT_STORE=True): every rank connects as a client.
  bool agent_store = false;
  std::string restart_count = "0";  ///< TORCHELASTIC_RESTART_COUNT; names the store prefix of an attempt.
  std::string launcher = "none";    ///< "torchrun", "slurm", "env" or "none".

  bool distributed() const { return world_size > 1; }
};

/// Reads a variable; returns nullptr when unset (std::getenv by default).
using EnvLookup = std::function<const char*(const char*)>;

/// Detects the launch, in this order:
/// - RANK and WORLD_SIZE (torchrun, which also sets TORCHELASTIC_RUN_ID; or a plain shell loop), with
///   LOCAL_RANK (default 0) and LOCAL_WORLD_SIZE (default: WORLD_SIZE when LOCAL_RANK is unset, else 1);
/// - SLURM_PROCID and SLURM_NTASKS (one srun task per rank), with SLURM_LOCALID and
///   SLURM_NTASKS_PER_NODE / SLURM_TASKS_PER_NODE;
/// - otherwise a single process.
/// A distributed launch needs MASTER_ADDR and MASTER_PORT. Throws c10::ValueError naming the variable
/// for missing or malformed values: "RANK: expected an integer in [0, WORLD_SIZE=2) (got 2)".
LaunchEnv detect_launch(const EnvLookup& env = nullptr);

/// "rank 1 of 2 (local 1, torchrun, store 127.0.0.1:29500 hosted by the agent)".
std::string describe(const LaunchEnv& env);

}  // namespace propnet::dist
