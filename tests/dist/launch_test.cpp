#include <map>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <c10/util/Exception.h>

#include <propnet/dist/launch.h>

namespace propnet::dist {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

LaunchEnv detect(const std::map<std::string, std::string>& vars) {
  return detect_launch([&](const char* name) -> const char* {
    const auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

TEST(Launch, NoVariablesIsOneProcess) {
  const LaunchEnv env = detect({});
  EXPECT_FALSE(env.distributed());
  EXPECT_EQ(env.world_size, 1);
  EXPECT_EQ(env.launcher, "none");
  EXPECT_FALSE(detect({{"RANK", "0"}, {"WORLD_SIZE", "1"}}).distributed());  // no MASTER_* needed
}

TEST(Launch, Torchrun) {
  const LaunchEnv env = detect({{"RANK", "3"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"}, {"LOCAL_WORLD_SIZE", "2"},
                                {"MASTER_ADDR", "node7"}, {"MASTER_PORT", "29500"}, {"TORCHELASTIC_RUN_ID", "x"},
                                {"TORCHELASTIC_USE_AGENT_STORE", "True"}, {"TORCHELASTIC_RESTART_COUNT", "2"}});
  EXPECT_TRUE(env.distributed());
  EXPECT_EQ(env.rank, 3);
  EXPECT_EQ(env.world_size, 4);
  EXPECT_EQ(env.local_rank, 1);
  EXPECT_EQ(env.local_world_size, 2);
  EXPECT_EQ(env.master_addr, "node7");
  EXPECT_EQ(env.master_port, 29500);
  EXPECT_TRUE(env.agent_store);
  EXPECT_EQ(env.restart_count, "2");
  EXPECT_EQ(env.launcher, "torchrun");
  EXPECT_THAT(describe(env), HasSubstr("rank 3 of 4"));
  EXPECT_FALSE(detect({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "1"},
                       {"TORCHELASTIC_USE_AGENT_STORE", "False"}})
                   .agent_store);
}

TEST(Launch, PlainVariablesOnOneMachine) {
  const LaunchEnv env = detect({{"RANK", "1"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", "4000"}});
  EXPECT_EQ(env.launcher, "env");
  EXPECT_EQ(env.local_rank, 1);
  EXPECT_EQ(env.local_world_size, 2);
  EXPECT_FALSE(env.agent_store);
}

TEST(Launch, Slurm) {
  const LaunchEnv env = detect({{"SLURM_PROCID", "5"}, {"SLURM_NTASKS", "8"}, {"SLURM_LOCALID", "1"},
                                {"SLURM_TASKS_PER_NODE", "4(x2)"}, {"MASTER_ADDR", "n1"}, {"MASTER_PORT", "29400"}});
  EXPECT_EQ(env.launcher, "slurm");
  EXPECT_EQ(env.rank, 5);
  EXPECT_EQ(env.world_size, 8);
  EXPECT_EQ(env.local_rank, 1);
  EXPECT_EQ(env.local_world_size, 4);
  // torchrun's variables win over SLURM's (torchrun inside an srun step).
  EXPECT_EQ(detect({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}, {"RANK", "1"}, {"WORLD_SIZE", "2"},
                    {"MASTER_ADDR", "n1"}, {"MASTER_PORT", "1"}})
                .rank,
            1);
}

TEST(Launch, BadValuesNameTheVariable) {
  const auto error = [](const std::map<std::string, std::string>& vars, const std::string& message) {
    EXPECT_THAT([&] { detect(vars); }, ThrowsMessage<c10::ValueError>(HasSubstr(message)));
  };
  error({{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "1"}},
        "RANK: expected an integer in [0, WORLD_SIZE=2) (got \"2\")");
  error({{"RANK", "0"}, {"WORLD_SIZE", "two"}}, "WORLD_SIZE: expected an integer");
  error({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "1"}}, "MASTER_ADDR: expected the host of rank 0");
  error({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "70000"}}, "MASTER_PORT");
  error({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}}, "MASTER_ADDR");
}

}  // namespace
}  // namespace propnet::dist
