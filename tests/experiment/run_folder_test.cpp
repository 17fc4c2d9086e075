// The library's run folder and seed loop: seed folder names, the one "done" rule per kind, the FAILED
// marker, a stop ending the loop, the records summary.json is written from, and the config identity.
#include <fstream>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <c10/util/Exception.h>

#include <propnet/experiment/run_folder.h>
#include <propnet/experiment/seed_loop.h>
#include "support.h"

namespace propnet::experiment {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

void touch(const std::filesystem::path& path, const std::string& text = "x") {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

TEST(RunFolderTest, SeedFoldersAreNamedAndParsedInOnePlace) {
  const RunFolder folder("runs/x", RunFolder::Kind::kTraining);
  EXPECT_EQ(folder.seed_dir(3), std::filesystem::path("runs/x/seed-3"));
  EXPECT_EQ(RunFolder::seed_of("runs/x/seed-3"), 3);
  EXPECT_EQ(RunFolder::seed_of(folder.seed_dir(12)), 12);
  for (const char* other : {"seed-old", "seed-", "seed-1a", "seeds-1", "seed-1234567890123456789012"}) {
    EXPECT_FALSE(RunFolder::seed_of(other).has_value()) << other;
  }
}

TEST(RunFolderTest, EachKindHasOneDoneRuleAndRecordsSayWhatTheFilesSay) {
  const std::filesystem::path dir = test::scratch_dir("folder-kinds");
  const RunFolder search(dir / "search", RunFolder::Kind::kSearch);
  touch(search.seed_dir(0) / "search.json", "{}");
  touch(search.seed_dir(1) / "checkpoint.pt");  // damaged: not a LibTorch archive
  search.begin_seed(2);
  search.begin_seed(3);
  search.mark_failed(3, "training loss became nan");
  std::filesystem::create_directories(dir / "search" / "seed-old");
  EXPECT_TRUE(search.done(0));
  EXPECT_FALSE(search.done(2));
  EXPECT_EQ(search.seeds_on_disk(), (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(search.record(0).state, SeedState::kDone);
  EXPECT_EQ(search.record(1).state, SeedState::kUnreadable);
  EXPECT_NE(search.record(1).message.find("checkpoint.pt"), std::string::npos) << search.record(1).message;
  EXPECT_EQ(search.record(2).state, SeedState::kIncomplete);
  EXPECT_EQ(search.record(3).state, SeedState::kFailed);
  EXPECT_EQ(search.record(3).message, "training loss became nan\n");

  const RunFolder training(dir / "train", RunFolder::Kind::kTraining);
  touch(training.seed_dir(0) / "search.json", "{}");  // not what marks a training seed as done
  EXPECT_FALSE(training.done(0));
  touch(training.seed_dir(0) / "model.pt");
  EXPECT_TRUE(training.done(0));
  EXPECT_EQ(to_string(SeedState::kStopped), "stopped");
}

TEST(SeedLoopTest, SkipsDoneSeedsMarksFailedOnesAndEndsAtAStop) {
  const std::filesystem::path dir = test::scratch_dir("folder-loop");
  const RunFolder folder(dir, RunFolder::Kind::kSearch);
  std::vector<int64_t> ran;
  std::vector<std::string> warnings;
  SeedLoopOptions options;
  options.what = "search seed";
  options.hooks.on_warning = [&](const std::string& text) { warnings.push_back(text); };
  std::vector<SeedState> at_end;  // what a summary written in on_end would say of the seed
  options.hooks.on_end = [&](int64_t seed) { at_end.push_back(folder.record(seed).state); };
  const auto run_one = [&](int64_t seed) {
    ran.push_back(seed);
    EXPECT_TRUE(std::filesystem::is_directory(folder.seed_dir(seed)));
    EXPECT_FALSE(std::filesystem::exists(folder.seed_dir(seed) / "FAILED"));  // a retried seed starts unmarked
    if (seed == 0) touch(folder.seed_dir(0) / "search.json", "{}");
    if (seed == 1) return SeedOutcome{train::SeedStatus::kFailed, "loss became nan"};
    if (seed == 2) return SeedOutcome{train::SeedStatus::kStopped, "stopped after epoch 1"};
    return SeedOutcome{};
  };
  SeedLoopResult r = run_seeds(folder, {0, 1, 2, 3}, run_one, options);
  EXPECT_EQ(ran, (std::vector<int64_t>{0, 1, 2}));
  EXPECT_TRUE(r.any_failed);
  ASSERT_TRUE(r.stopped_seed.has_value());
  EXPECT_EQ(*r.stopped_seed, 2);
  EXPECT_EQ(r.stop_message, "stopped after epoch 1");
  EXPECT_EQ(folder.record(1).state, SeedState::kFailed);
  EXPECT_EQ(at_end, (std::vector<SeedState>{SeedState::kDone, SeedState::kFailed, SeedState::kIncomplete}));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0], "search seed 1 failed: loss became nan; going on with the next seed");

  ran.clear();
  options.hooks.on_end = {};
  std::vector<std::string> messages;
  options.hooks.on_message = [&](const std::string& text) { messages.push_back(text); };
  r = run_seeds(folder, {0, 1, 2, 3}, run_one, options);  // the rerun: seed 0 is done
  EXPECT_EQ(ran, (std::vector<int64_t>{1, 2}));
  ASSERT_FALSE(messages.empty());
  EXPECT_EQ(messages[0], "search seed 0 already finished; skipping");
}

TEST(RunFolderTest, PrepareRefusesAnotherExperimentAndRestartClearsTheSeeds) {
  const std::filesystem::path dir = test::scratch_dir("folder-prepare");
  const RunFolder folder(dir / "run", RunFolder::Kind::kTraining);
  ExperimentConfig config;
  config.network.arch = "preresnet";
  config.network.depth = 20;
  folder.prepare(config, false);
  EXPECT_TRUE(std::filesystem::exists(folder.dir() / "config.json"));
  touch(folder.seed_dir(0) / "model.pt");
  config.train.threads = 3;  // does not change results
  folder.prepare(config, false);
  config.train.lr = 0.05;
  EXPECT_THAT([&] { folder.prepare(config, false); },
              ThrowsMessage<c10::ValueError>(
                  HasSubstr("holds a different experiment: train.lr (0.1 in the run folder, 0.05 now); pass --name "
                            "preresnet-20-paired-cifar10-lr0.05 for a new run folder, or --restart to discard it")));
  // A name it would offer that holds yet another experiment is passed over; one that holds this one is offered.
  ExperimentConfig other = config;
  other.train.epochs = 7;
  RunFolder(dir / "run-lr0.05", RunFolder::Kind::kTraining).prepare(other, false);
  EXPECT_THAT([&] { folder.prepare(config, false); },
              ThrowsMessage<c10::ValueError>(HasSubstr("pass --name preresnet-20-paired-cifar10-lr0.05-2 for")));
  RunFolder(dir / "run-lr0.05", RunFolder::Kind::kTraining).prepare(config, true);
  EXPECT_THAT([&] { folder.prepare(config, false); },
              ThrowsMessage<c10::ValueError>(HasSubstr("pass --name preresnet-20-paired-cifar10-lr0.05 for")));
  folder.prepare(config, true);
  EXPECT_TRUE(folder.seeds_on_disk().empty());
}

TEST(RunFolderTest, SummaryCountsOnlyDoneSeedsAndSaysSoWhenThereIsNone) {
  const std::filesystem::path dir = test::scratch_dir("folder-summary");
  const RunFolder folder(dir, RunFolder::Kind::kTraining);
  folder.begin_seed(0);
  const RunSummary summary = folder.summarize();
  ASSERT_EQ(summary.seeds.size(), 1u);
  EXPECT_EQ(summary.seeds[0].state, SeedState::kIncomplete);
  EXPECT_EQ(summary.statistics.n, 0);
  EXPECT_EQ(summary.line(), "no finished seed yet");
}

}  // namespace
}  // namespace propnet::experiment
