#include <propnet/dist/launch.h>

#include <cstdlib>
#include <string>

#include <c10/util/Exception.h>

namespace propnet::dist {
namespace {

// Parses a whole decimal integer; false for anything else ("", "2x", "-").
bool parse_int(const char* text, int64_t& value) {
  if (text == nullptr || *text == '\0') return false;
  char* end = nullptr;
  const long long v = std::strtoll(text, &end, 10);
  if (*end != '\0') return false;
  value = v;
  return true;
}

int64_t read_int(const EnvLookup& env, const char* name, int64_t min, int64_t max, const std::string& range) {
  const char* text = env(name);
  int64_t value = 0;
  TORCH_CHECK_VALUE(parse_int(text, value) && value >= min && value < max, name, ": expected an integer in ", range,
                    " (got \"", text ? text : "", "\")");
  return value;
}

bool truthy(const char* text) {
  if (text == nullptr) return false;
  const std::string s = text;
  return s == "1" || s == "True" || s == "true" || s == "TRUE";
}

// "4(x2),2" (SLURM_TASKS_PER_NODE) -> 4: the count of the first node, which is what a
// homogeneous job has on every node.
int64_t first_task_count(const char* text) {
  int64_t value = 0;
  if (text == nullptr) return 0;
  const std::string s = text;
  const std::string head = s.substr(0, s.find_first_of("(,"));
  return parse_int(head.c_str(), value) ? value : 0;
}

}  // namespace

LaunchEnv detect_launch(const EnvLookup& lookup) {
  const EnvLookup env = lookup ? lookup : EnvLookup([](const char* name) -> const char* { return std::getenv(name); });
  LaunchEnv launch;
  constexpr int64_t kMaxWorld = int64_t{1} << 20;
  if (env("RANK") != nullptr || env("WORLD_SIZE") != nullptr) {
    launch.launcher = env("TORCHELASTIC_RUN_ID") != nullptr ? "torchrun" : "env";
    launch.world_size = read_int(env, "WORLD_SIZE", 1, kMaxWorld, "[1, 2^20)");
    const std::string ranks = "[0, WORLD_SIZE=" + std::to_string(launch.world_size) + ")";
    launch.rank = read_int(env, "RANK", 0, launch.world_size, ranks);
    if (env("LOCAL_RANK") != nullptr) {
      launch.local_rank = read_int(env, "LOCAL_RANK", 0, launch.world_size, ranks);
      launch.local_world_size = env("LOCAL_WORLD_SIZE") != nullptr
                                    ? read_int(env, "LOCAL_WORLD_SIZE", 1, launch.world_size + 1, "[1, WORLD_SIZE]")
                                    : 1;
    } else {
      launch.local_rank = launch.rank;  // a shell loop on one machine
      launch.local_world_size = launch.world_size;
    }
    launch.agent_store = truthy(env("TORCHELASTIC_USE_AGENT_STORE"));
    if (const char* restarts = env("TORCHELASTIC_RESTART_COUNT")) launch.restart_count = restarts;
  } else if (env("SLURM_PROCID") != nullptr && env("SLURM_NTASKS") != nullptr) {
    launch.launcher = "slurm";
    launch.world_size = read_int(env, "SLURM_NTASKS", 1, kMaxWorld, "[1, 2^20)");
    const std::string ranks = "[0, SLURM_NTASKS=" + std::to_string(launch.world_size) + ")";
    launch.rank = read_int(env, "SLURM_PROCID", 0, launch.world_size, ranks);
    launch.local_rank = env("SLURM_LOCALID") != nullptr ? read_int(env, "SLURM_LOCALID", 0, launch.world_size, ranks) : 0;
    int64_t per_node = 0;
    if (!parse_int(env("SLURM_NTASKS_PER_NODE"), per_node)) per_node = first_task_count(env("SLURM_TASKS_PER_NODE"));
    launch.local_world_size = per_node > 0 ? per_node : 1;
  }
  if (!launch.distributed()) {
    launch.launcher = "none";
    return launch;
  }
  const char* addr = env("MASTER_ADDR");
  TORCH_CHECK_VALUE(addr != nullptr && *addr != '\0', "MASTER_ADDR: expected the host of rank 0 in a ", launch.launcher,
                    " launch of ", launch.world_size, " ranks (got nothing); export MASTER_ADDR and MASTER_PORT");
  launch.master_addr = addr;
  launch.master_port = read_int(env, "MASTER_PORT", 1, 65536, "[1, 65535]");
  return launch;
}

std::string describe(const LaunchEnv& env) {
  if (!env.distributed()) return "single process";
  return "rank " + std::to_string(env.rank) + " of " + std::to_string(env.world_size) + " (local " +
         std::to_string(env.local_rank) + ", " + env.launcher + ", store " + env.master_addr + ":" +
         std::to_string(env.master_port) + (env.agent_store ? " hosted by the agent)" : ")");
}

}  // namespace propnet::dist
