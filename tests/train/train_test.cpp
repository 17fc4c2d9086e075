#include <cmath>
#include <cstdlib>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/cuda.h>
#include <torch/types.h>

#include <propnet/config.h>
#include <propnet/train/schedule.h>
#include <propnet/train/statistics.h>
#include <propnet/train/trainer.h>
#include "support.h"
#include "train/toy_data.h"

namespace propnet::train {
namespace {

using ::testing::HasSubstr;

ExperimentConfig toy_config(int64_t epochs) {
  ExperimentConfig c;
  c.network.arch = "preresnet";
  c.network.depth = 8;
  c.network.num_classes = 4;
  c.network.mask.variant = "proportional";
  c.data.dataset = data::DatasetKind::kCifar10;
  c.train.epochs = epochs;
  c.train.batch_size = 32;
  c.train.lr = 0.05;
  c.train.log_every = 2;
  c.train.eval_batch_size = 64;
  c.train.threads = 1;
  return c;
}

std::map<std::string, torch::Tensor> weights_of(const ExperimentConfig& config, const std::filesystem::path& path) {
  models::Network net(config.network);
  load_weights(net, path);
  std::map<std::string, torch::Tensor> all;
  for (const auto& p : net->named_parameters()) all[p.key()] = p.value();
  for (const auto& b : net->named_buffers()) all[b.key()] = b.value();
  return all;
}

// The drops count optimizer steps: every run length gets the four phases in the paper's proportions.
TEST(ScheduleTest, DropsAtHalfThreeQuartersAndSevenEighthsOfTheSteps) {
  TrainSpec spec;
  spec.lr = 0.1;
  const int64_t steps = 7;  // per epoch; odd, so that fractions of the total fall mid-epoch
  for (int64_t epochs : {1, 2, 3, 4, 6, 400}) {
    spec.epochs = epochs;
    const int64_t total = epochs * steps;
    const std::vector<int64_t> drops = lr_milestone_steps(spec, steps);
    ASSERT_EQ(drops, (std::vector<int64_t>{total / 2, total * 3 / 4, total * 7 / 8})) << epochs << " epochs";
    std::vector<int64_t> phase(4, 0);  // steps at 0.1, 0.01, 0.001, 0.0001
    for (int64_t t = 0; t < total; ++t) {
      const double lr = lr_at_step(spec, steps, t);
      const int64_t k = std::llround(-std::log10(lr)) - 1;
      ASSERT_TRUE(k >= 0 && k < 4) << lr;
      EXPECT_NEAR(lr, 0.1 * std::pow(0.1, static_cast<double>(k)), 1e-15);
      if (t > 0) {
        EXPECT_LE(lr, lr_at_step(spec, steps, t - 1));  // never rises
      }
      ++phase[static_cast<size_t>(k)];
    }
    EXPECT_EQ(phase[0], total / 2) << epochs;  // half the run at 0.1, then 1/4, 1/8 and 1/8 (floored)
    EXPECT_EQ(phase[0] + phase[1], total * 3 / 4) << epochs;
    EXPECT_EQ(phase[0] + phase[1] + phase[2], total * 7 / 8) << epochs;
    for (int64_t p : phase) EXPECT_GT(p, 0) << epochs << " epochs: a phase of the schedule is missing";
  }
  // At the paper's 400 epochs the drops are the first steps of epochs 200, 300 and 350, as before.
  for (int64_t e : {0, 199, 200, 299, 300, 349, 350, 399}) {
    const double expected = 0.1 * std::pow(0.1, (e >= 200) + (e >= 300) + (e >= 350));
    EXPECT_NEAR(lr_at_step(spec, steps, e * steps), expected, 1e-15) << e;
    EXPECT_NEAR(lr_at_step(spec, steps, e * steps + steps - 1), expected, 1e-15) << e;
  }
  spec.milestones = {3};  // explicit epochs: the drop at the epoch's first step
  EXPECT_EQ(lr_milestone_steps(spec, steps), std::vector<int64_t>{21});
  EXPECT_NEAR(lr_at_step(spec, steps, 20), 0.1, 1e-15);
  EXPECT_NEAR(lr_at_step(spec, steps, 21), 0.01, 1e-15);
}

// The trainer applies it step by step: one epoch of 6 steps drops at steps 3, 4 and 5.
TEST(ScheduleTest, TheTrainerDropsTheLrMidEpoch) {
  struct LrProbe : StepHook {
    std::vector<double> lrs;
    void after_step(const StepContext& c) override { lrs.push_back(c.lr); }
  };
  auto probe = std::make_shared<LrProbe>();
  TrainerHooks hooks;
  hooks.step = probe;
  const SeedResult r = train_seed(toy_config(1), 0, toy_dataset(), torch::kCPU, SeedFiles(test::scratch_dir("lr-mid")), hooks);
  ASSERT_EQ(probe->lrs.size(), 6u);
  const std::vector<double> expected{0.05, 0.05, 0.05, 0.005, 0.0005, 0.00005};
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(probe->lrs[i], expected[i], 1e-15) << "step " << i;
  EXPECT_NEAR(r.metrics.at(0).lr_start, 0.05, 1e-15);  // the epoch's range: where it began and ended
  EXPECT_NEAR(r.metrics.at(0).lr, 0.00005, 1e-15);
}

TEST(StatisticsTest, ReportsSampleAndPopulationStd) {
  const SeedStatistics s = seed_statistics({93.0, 93.5, 94.0, 92.5, 93.0});
  EXPECT_EQ(s.n, 5);
  EXPECT_NEAR(s.mean, 93.2, 1e-9);
  EXPECT_NEAR(s.std, std::sqrt(1.3 / 4), 1e-9);
  EXPECT_NEAR(s.std_pop, std::sqrt(1.3 / 5), 1e-9);
  EXPECT_DOUBLE_EQ(s.median, 93.0);
  EXPECT_DOUBLE_EQ(s.best, 94.0);
  EXPECT_EQ(reference_line(s), "93.00 (93.20 \u00b1 0.51, 94.00)");
  EXPECT_DOUBLE_EQ(seed_statistics({1.0, 2.0}).median, 1.5);
  EXPECT_EQ(seed_statistics({}).n, 0);
}

TEST(TrainerTest, TinyRunLowersTheLossAndWritesEveryFile) {
  const auto dir = test::scratch_dir("tiny-run");
  const data::Dataset data = toy_dataset();
  int64_t readings = 0;
  TrainerHooks hooks;
  hooks.on_progress = [&](const StepProgress& p) {
    ++readings;
    EXPECT_GT(p.images_per_s, 0);
    EXPECT_LE(p.step, p.steps);
  };
  const SeedFiles files(dir / "seed-0");
  const SeedResult result = train_seed(toy_config(3), 0, data, torch::kCPU, files, hooks);
  ASSERT_EQ(result.status, SeedStatus::kDone);
  ASSERT_EQ(result.metrics.size(), 3u);
  EXPECT_LT(result.metrics.back().train_loss, result.metrics.front().train_loss);
  EXPECT_GT(readings, 3);
  for (const auto& file : {files.checkpoint, files.model, files.metrics_jsonl, files.metrics_csv}) {
    EXPECT_TRUE(std::filesystem::exists(file)) << file;
  }
  std::ifstream jsonl(files.metrics_jsonl);
  std::string line;
  int64_t lines = 0;
  while (std::getline(jsonl, line)) {
    const auto row = nlohmann::json::parse(line);
    for (const char* key : {"epoch", "lr", "train_loss", "train_acc", "test_loss", "test_acc", "epoch_seconds", "images_per_s"}) {
      EXPECT_TRUE(row.contains(key)) << key;
    }
    ++lines;
  }
  EXPECT_EQ(lines, 3);
  EXPECT_EQ(read_checkpoint_metrics(files.checkpoint).size(), 3u);
  // A finished seed is skipped, not retrained.
  const SeedResult again = train_seed(toy_config(3), 0, data, torch::kCPU, files, {});
  EXPECT_EQ(again.status, SeedStatus::kDone);
  EXPECT_DOUBLE_EQ(again.final_test_acc(), result.final_test_acc());
}

// train.test_every skips test passes, never the last one, and changes nothing of the training.
TEST(TrainerTest, TestEveryNthEpochAndAlwaysTheLastTrainsTheSame) {
  const data::Dataset data = toy_dataset();
  auto config = toy_config(3);
  const SeedFiles every(test::scratch_dir("test-every-1") / "seed-0");
  const SeedResult all = train_seed(config, 0, data, torch::kCPU, every, {});
  const auto tested = [](const SeedResult& r) {
    std::vector<int64_t> epochs;
    for (const EpochMetrics& m : r.metrics) {
      if (m.has_test) epochs.push_back(m.epoch);
    }
    return epochs;
  };
  EXPECT_EQ(tested(all), (std::vector<int64_t>{1, 2, 3}));
  for (const auto& [n, expected] : {std::pair<int64_t, std::vector<int64_t>>{2, {2, 3}}, {0, {3}}}) {
    config.train.test_every = n;
    const SeedFiles files(test::scratch_dir("test-every-" + std::to_string(n)) / "seed-0");
    const SeedResult result = train_seed(config, 0, data, torch::kCPU, files, {});
    ASSERT_EQ(result.status, SeedStatus::kDone);
    EXPECT_EQ(tested(result), expected) << n;
    EXPECT_DOUBLE_EQ(result.final_test_acc(), all.final_test_acc()) << n;
    EXPECT_DOUBLE_EQ(result.metrics.back().train_loss, all.metrics.back().train_loss) << n;
    const auto a = weights_of(config, every.model), b = weights_of(config, files.model);
    for (const auto& [name, tensor] : a) EXPECT_TRUE(torch::equal(tensor, b.at(name))) << name;
  }
}

TEST(TrainerTest, EvaluatingTheSavedModelMatchesTheLastEpoch) {
  const auto dir = test::scratch_dir("eval-saved");
  const data::Dataset data = toy_dataset();
  const auto config = toy_config(1);
  const SeedFiles files(dir / "seed-0");
  const SeedResult result = train_seed(config, 0, data, torch::kCPU, files, {});
  models::Network net(config.network);
  load_weights(net, files.model);
  const EvalResult eval = evaluate(net, data.test, data::Normalizer(data.mean, data.std), 64);
  EXPECT_DOUBLE_EQ(eval.accuracy, result.final_test_acc());
  EXPECT_NEAR(eval.loss, result.metrics.back().test_loss, 1e-9);
}

TEST(TrainerTest, InterruptedAndResumedRunIsBitwiseIdentical) {
  const data::Dataset data = toy_dataset();
  const auto config = toy_config(2);  // 6 steps per epoch
  const SeedFiles straight(test::scratch_dir("resume-straight") / "seed-3");
  ASSERT_EQ(train_seed(config, 3, data, torch::kCPU, straight, {}).status, SeedStatus::kDone);

  const SeedFiles resumed(test::scratch_dir("resume-resumed") / "seed-3");
  // stop_requested is polled after every step and once after each epoch: stop after step 4 of epoch 1,
  // then (steps 5, 6, the epoch's end, steps 1, 2) after step 2 of epoch 2.
  for (int64_t stop_after : {4, 5}) {
    int64_t steps = 0;
    TrainerHooks hooks;
    hooks.stop_requested = [&] { return ++steps == stop_after; };
    ASSERT_EQ(train_seed(config, 3, data, torch::kCPU, resumed, hooks).status, SeedStatus::kStopped);
    EXPECT_FALSE(std::filesystem::exists(resumed.model));
  }
  std::string resumed_message;
  TrainerHooks hooks;
  hooks.on_message = [&](const std::string& m) { resumed_message = m; };
  ASSERT_EQ(train_seed(config, 3, data, torch::kCPU, resumed, hooks).status, SeedStatus::kDone);
  // Resumed after step 2 of epoch 2, before the drops at its steps 3 and 4 (global steps 9 and 10 of 12).
  EXPECT_THAT(resumed_message, HasSubstr("resuming seed 3 from epoch 2, step 2"));

  const auto a = weights_of(config, straight.model), b = weights_of(config, resumed.model);
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, tensor] : a) EXPECT_TRUE(torch::equal(tensor, b.at(name))) << name;
  const auto ma = read_checkpoint_metrics(straight.checkpoint), mb = read_checkpoint_metrics(resumed.checkpoint);
  ASSERT_EQ(mb.size(), 2u);
  EXPECT_DOUBLE_EQ(ma.back().test_acc, mb.back().test_acc);
  EXPECT_DOUBLE_EQ(ma.back().train_loss, mb.back().train_loss);
  EXPECT_NEAR(mb.back().lr_start, 0.005, 1e-15);  // the drop at step 6 opened the epoch
  EXPECT_NEAR(mb.back().lr, 0.00005, 1e-15);
}

// Rewrites `src` into `dst` as if written on `device` (tests/train/relocate_archive.py).
void relocate(const std::filesystem::path& src, const std::filesystem::path& dst, const std::string& device) {
  const std::string command = std::string("/usr/bin/python3 ") + PROPNET_SOURCE_DIR + "/tests/train/relocate_archive.py " +
                              src.string() + " " + dst.string() + " " + device;
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
}

// A checkpoint or model.pt written on a GPU names cuda:0 as its tensors' device. Opened onto the
// device in use (the CPU for metadata), it resumes, evaluates and summarizes on another device:
// here the CPU, as on another GPU index or data-parallel rank > 0.
TEST(TrainerTest, FilesWrittenOnAGpuResumeAndLoadOntoTheDeviceInUse) {
  const data::Dataset data = toy_dataset(96, 32);
  const auto config = toy_config(2);
  const auto dir = test::scratch_dir("gpu-written");
  const SeedFiles straight(dir / "straight"), moved(dir / "moved");
  ASSERT_EQ(train_seed(config, 0, data, torch::kCPU, straight, {}).status, SeedStatus::kDone);
  int64_t epochs = 0;
  TrainerHooks stop_after_one;
  stop_after_one.on_epoch = [&](const EpochMetrics&) { ++epochs; };
  stop_after_one.stop_requested = [&] { return epochs == 1; };
  ASSERT_EQ(train_seed(config, 0, data, torch::kCPU, moved, stop_after_one).status, SeedStatus::kStopped);

  relocate(moved.checkpoint, moved.checkpoint, "cuda:0");
  if (!torch::cuda::is_available()) {  // as written, only a GPU machine could open it
    torch::serialize::InputArchive as_saved;
    EXPECT_ANY_THROW(as_saved.load_from(moved.checkpoint.string()));
  }
  EXPECT_EQ(read_checkpoint_metrics(moved.checkpoint).size(), 1u);
  EXPECT_EQ(read_saved_config(moved.checkpoint), read_saved_config(straight.checkpoint));
  // model.pt carries the same config, so it can be evaluated away from its run folder.
  ASSERT_TRUE(read_saved_config(straight.model).has_value());
  EXPECT_EQ(read_saved_config(straight.model), read_saved_config(straight.checkpoint));
  std::string message;  // a run that ignored the checkpoint would also end as the straight one does
  TrainerHooks hooks;
  hooks.on_message = [&](const std::string& m) { message += m; };
  ASSERT_EQ(train_seed(config, 0, data, torch::kCPU, moved, hooks).status, SeedStatus::kDone);
  EXPECT_THAT(message, HasSubstr("resuming seed 0 from epoch 2"));
  const auto a = weights_of(config, straight.model), b = weights_of(config, moved.model);
  for (const auto& [name, tensor] : a) EXPECT_TRUE(torch::equal(tensor, b.at(name))) << name;

  const auto gpu_model = dir / "model-cuda.pt";
  relocate(straight.model, gpu_model, "cuda:0");
  const auto c = weights_of(config, gpu_model);
  for (const auto& [name, tensor] : a) {
    EXPECT_TRUE(torch::equal(tensor, c.at(name))) << name;
    EXPECT_TRUE(c.at(name).device().is_cpu()) << name;
  }
}

TEST(TrainerTest, DivergingSeedFailsAndKeepsTheLastGoodCheckpoint) {
  const data::Dataset data = toy_dataset();
  auto config = toy_config(3);
  const SeedFiles files(test::scratch_dir("diverge") / "seed-0");
  int64_t epochs_seen = 0;
  TrainerHooks hooks;
  hooks.on_epoch = [&](const EpochMetrics&) { ++epochs_seen; };
  hooks.stop_requested = [&] { return epochs_seen == 1; };  // stop right after epoch 1
  ASSERT_EQ(train_seed(config, 0, data, torch::kCPU, files, hooks).status, SeedStatus::kStopped);
  config.train.lr = 1e30;  // the resumed epochs blow up
  const SeedResult result = train_seed(config, 0, data, torch::kCPU, files, {});
  EXPECT_EQ(result.status, SeedStatus::kFailed);
  EXPECT_THAT(result.message, HasSubstr("training loss became"));
  EXPECT_EQ(read_checkpoint_metrics(files.checkpoint).size(), 1u);
  EXPECT_FALSE(std::filesystem::exists(files.model));
}

TEST(TrainerTest, Fp16NeedsCuda) {
  auto config = toy_config(1);
  config.train.amp = Amp::kFp16;
  EXPECT_THAT([&] { train_seed(config, 0, toy_dataset(64, 16), torch::kCPU, SeedFiles(test::scratch_dir("amp")), {}); },
              ::testing::ThrowsMessage<c10::ValueError>(HasSubstr("fp16 autocast needs a CUDA device")));
}

TEST(TrainerTest, CudaGraphsNeedCuda) {
  auto config = toy_config(1);
  config.train.cuda_graph = true;
  EXPECT_THAT([&] { train_seed(config, 0, toy_dataset(64, 16), torch::kCPU, SeedFiles(test::scratch_dir("graph-cpu")), {}); },
              ::testing::ThrowsMessage<c10::ValueError>(HasSubstr("CUDA graphs need a CUDA device")));
}

// The CUDA graph path replays the eager step's kernels: same weights and metrics through warm-up,
// capture, two re-captures (lr drops) and ragged last batches, at each precision and layout, with
// and without ghost BN (whose chunks the graph captures too). Skipped without a GPU.
struct GraphCase {
  Amp amp;
  bool channels_last;
  int64_t bn_batch;
};

std::string name_of(const GraphCase& c) {
  return std::string(c.amp == Amp::kBf16 ? "Bf16" : "Fp32") + (c.channels_last ? "ChannelsLast" : "Nchw") +
         (c.bn_batch ? "GhostBn" + std::to_string(c.bn_batch) : "");
}

void PrintTo(const GraphCase& c, std::ostream* os) { *os << name_of(c); }  // test names without a byte dump

class CudaGraphTest : public ::testing::TestWithParam<GraphCase> {};

data::Dataset on_cuda(data::Dataset data) {
  for (data::Split* split : {&data.train, &data.test}) {
    split->images = split->images.to(torch::kCUDA);
    split->labels = split->labels.to(torch::kCUDA);
  }
  return data;
}

TEST_P(CudaGraphTest, CudaGraphRunMatchesTheEagerRun) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const GraphCase c = GetParam();
  const data::Dataset data = on_cuda(toy_dataset(200, 100));  // 6 batches of 32 + one of 8; test batches of 64 + 36
  auto config = toy_config(3);  // 7 steps per epoch: the drops at steps 10, 15, 18 of 21 fall mid-epoch, and re-capture
  config.train.deterministic = true;  // the same cuDNN algorithms in both runs
  config.train.amp = c.amp;
  config.train.channels_last = c.channels_last;
  config.train.bn_batch = c.bn_batch;
  // With autocast's cache off in both, the captured casts are the eager ones: expected bitwise equal;
  // the tolerance only keeps a one-ulp difference in bf16 from hiding what else the test reports.
  const double rtol = c.amp == Amp::kBf16 ? 1e-3 : 1e-4, atol = c.amp == Amp::kBf16 ? 1e-4 : 1e-5;
  std::map<std::string, torch::Tensor> weights[2];
  std::vector<EpochMetrics> metrics[2];
  for (const bool graph : {false, true}) {
    config.train.cuda_graph = graph;
    const SeedFiles files(test::scratch_dir(name_of(c) + (graph ? "-graph" : "-eager")));
    const SeedResult r = train_seed(config, 0, data, torch::Device(torch::kCUDA, 0), files, {});
    ASSERT_EQ(r.status, SeedStatus::kDone) << r.message;
    metrics[graph] = r.metrics;
    weights[graph] = weights_of(config, files.model);
  }
  int64_t bitwise = 0;
  for (const auto& [name, eager] : weights[0]) {
    const auto g = weights[1][name].to(torch::kCPU).to(torch::kDouble), e = eager.to(torch::kCPU).to(torch::kDouble);
    bitwise += torch::equal(g, e);
    EXPECT_TRUE(torch::allclose(g, e, rtol, atol)) << name << ": max |graph - eager| " << (g - e).abs().max().item<double>();
  }
  RecordProperty("bitwise_equal_tensors", std::to_string(bitwise) + " of " + std::to_string(weights[0].size()));
  ASSERT_EQ(metrics[1].size(), metrics[0].size());
  for (size_t e = 0; e < metrics[0].size(); ++e) {
    EXPECT_NEAR(metrics[1][e].train_loss, metrics[0][e].train_loss, 10 * atol + 1e-4) << "epoch " << e + 1;
    EXPECT_NEAR(metrics[1][e].test_loss, metrics[0][e].test_loss, 10 * atol + 1e-4) << "epoch " << e + 1;
    EXPECT_NEAR(metrics[1][e].test_acc, metrics[0][e].test_acc, 1.0) << "epoch " << e + 1;  // at most one image
  }
}

INSTANTIATE_TEST_SUITE_P(PrecisionLayoutGhostBn, CudaGraphTest,
                         ::testing::Values(GraphCase{Amp::kOff, false, 0}, GraphCase{Amp::kOff, true, 0},
                                           GraphCase{Amp::kBf16, false, 0}, GraphCase{Amp::kBf16, true, 0},
                                           GraphCase{Amp::kBf16, true, 16}, GraphCase{Amp::kOff, false, 16}),
                         [](const ::testing::TestParamInfo<GraphCase>& info) { return name_of(info.param); });

// Stopped mid-epoch and resumed on the GPU: the parameters come back on the GPU beside their
// gradients and momentum, and the run ends as the uninterrupted one does (deterministic cuDNN).
TEST(TrainerTest, CudaInterruptedAndResumedRunMatchesTheStraightRun) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const data::Dataset data = on_cuda(toy_dataset());
  auto config = toy_config(2);  // 6 steps per epoch
  config.train.deterministic = true;
  const torch::Device gpu(torch::kCUDA, 0);
  const SeedFiles straight(test::scratch_dir("cuda-resume-straight") / "seed-0");
  ASSERT_EQ(train_seed(config, 0, data, gpu, straight, {}).status, SeedStatus::kDone);
  const SeedFiles resumed(test::scratch_dir("cuda-resume-resumed") / "seed-0");
  int64_t steps = 0;
  TrainerHooks hooks;
  hooks.stop_requested = [&] { return ++steps == 8; };  // polled per step and per epoch: mid-epoch 2
  ASSERT_EQ(train_seed(config, 0, data, gpu, resumed, hooks).status, SeedStatus::kStopped);
  std::string message;
  TrainerHooks resume;
  resume.on_message = [&](const std::string& m) { message += m; };
  const SeedResult r = train_seed(config, 0, data, gpu, resumed, resume);
  ASSERT_EQ(r.status, SeedStatus::kDone) << r.message;
  EXPECT_THAT(message, HasSubstr("resuming seed 0 from epoch 2"));
  const auto a = weights_of(config, straight.model), b = weights_of(config, resumed.model);
  for (const auto& [name, tensor] : a) EXPECT_TRUE(torch::allclose(tensor, b.at(name), 1e-5, 1e-6)) << name;
}

TEST(TrainerTest, ModelFileLoadsInPythonUnderTheModuleTreeNames) {
  const char* python = std::getenv("PROPNET_PYTHON") ? std::getenv("PROPNET_PYTHON") : PROPNET_PYTHON;
  if (std::system((std::string(python) + " -c 'import torch' 2>/dev/null").c_str()) != 0) {
    GTEST_SKIP() << python << " cannot import torch";
  }
  const auto dir = test::scratch_dir("python-load");
  const auto config = toy_config(1);
  const SeedFiles files(dir / "seed-0");
  ASSERT_EQ(train_seed(config, 0, toy_dataset(), torch::kCPU, files, {}).status, SeedStatus::kDone);
  const auto out = dir / "from_python.json";
  const std::string command = std::string(python) + " " + PROPNET_SOURCE_DIR + "/tests/train/load_model.py " +
                              files.model.string() + " " + out.string();
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  std::ifstream in(out);
  const auto tensors = nlohmann::json::parse(in);
  const auto cpp = weights_of(config, files.model);
  EXPECT_EQ(tensors.size(), cpp.size());
  for (const auto& [name, tensor] : cpp) {
    ASSERT_TRUE(tensors.contains(name)) << name << " missing on the Python side";
    const auto& py = tensors[name];
    EXPECT_EQ(py["shape"].get<std::vector<int64_t>>(), tensor.sizes().vec()) << name;
    const auto flat = tensor.flatten().to(torch::kDouble);
    const auto values = py["values"].get<std::vector<double>>();
    ASSERT_EQ(static_cast<int64_t>(values.size()), flat.numel()) << name;
    EXPECT_TRUE(torch::equal(torch::tensor(values, torch::kDouble), flat)) << name;
  }
}

}  // namespace
}  // namespace propnet::train
