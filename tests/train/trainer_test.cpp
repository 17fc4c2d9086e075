// The public Trainer on modules of the caller's own, its step hook, and the files it leaves behind
// when they are damaged: what another LibTorch project relies on.
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <ATen/core/ivalue.h>
#include <c10/core/Device.h>
#include <c10/util/Exception.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>
#include <torch/serialize/archive.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <propnet/atomic_file.h>
#include <propnet/data/transforms.h>
#include <propnet/train/precision.h>
#include <propnet/train/trainer.h>
#include "data/host_upload.h"
#include "support.h"
#include "train/toy_data.h"

namespace propnet::train {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

// A module that is not from propnet's registry: conv-BN-ReLU, pooling, a linear classifier.
struct TinyNetImpl : torch::nn::Module {
  TinyNetImpl()
      : conv(register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 8, 3).padding(1).bias(false)))),
        bn(register_module("bn", torch::nn::BatchNorm2d(8))),
        fc(register_module("fc", torch::nn::Linear(8, 4))) {}
  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(bn(conv(x)));
    return fc(torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1));
  }
  torch::nn::Conv2d conv;
  torch::nn::BatchNorm2d bn;
  torch::nn::Linear fc;
};
TORCH_MODULE(TinyNet);

// Another module, with other shapes.
struct OtherNet : torch::nn::Module {
  OtherNet() : fc(register_module("fc", torch::nn::Linear(3 * 32 * 32, 4))) {}
  torch::Tensor forward(torch::Tensor x) { return fc(x.flatten(1)); }
  torch::nn::Linear fc;
};

TrainerOptions toy_options(int64_t epochs, const std::filesystem::path& dir = {}) {
  TrainerOptions o;
  o.spec.epochs = epochs;
  o.spec.batch_size = 32;
  o.spec.lr = 0.05;
  o.spec.log_every = 2;
  o.spec.eval_batch_size = 64;
  o.device = c10::Device(c10::kCPU);
  o.dir = dir;
  return o;
}

std::map<std::string, torch::Tensor> state_of(torch::nn::Module& module) {
  std::map<std::string, torch::Tensor> all;
  for (const auto& p : module.named_parameters()) all[p.key()] = p.value().clone();
  for (const auto& b : module.named_buffers()) all[b.key()] = b.value().clone();
  return all;
}

void expect_bitwise_equal(const std::map<std::string, torch::Tensor>& a, const std::map<std::string, torch::Tensor>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, tensor] : a) EXPECT_TRUE(torch::equal(tensor, b.at(name))) << name;
}

TEST(UserModuleTest, TrainsAModuleOfItsOwnAndWritesTheSeedFiles) {
  const auto dir = test::scratch_dir("user-module") / "seed-0";
  torch::manual_seed(0);
  TinyNet net;
  const data::Dataset data = toy_dataset();
  const SeedResult result = Trainer(net, data, toy_options(4, dir)).run();
  ASSERT_EQ(result.status, SeedStatus::kDone) << result.message;
  ASSERT_EQ(result.metrics.size(), 4u);
  EXPECT_LT(result.metrics.back().train_loss, result.metrics.front().train_loss);
  EXPECT_GT(result.final_test_acc(), 40.0);  // 4 classes: chance is 25 %
  const SeedFiles files(dir);
  for (const auto& file : {files.checkpoint, files.previous_checkpoint, files.model, files.metrics_jsonl}) {
    EXPECT_TRUE(std::filesystem::exists(file)) << file;
  }
  TinyNet reloaded;
  load_weights(*reloaded, files.model);
  const EvalResult eval = evaluate(reloaded, data.test, data::Normalizer(data.mean, data.std), 64);
  EXPECT_DOUBLE_EQ(eval.accuracy, result.final_test_acc());
}

TEST(UserModuleTest, WithoutAFolderNothingIsWritten) {
  const auto dir = test::scratch_dir("user-module-no-files");
  const auto before = std::filesystem::current_path();
  std::filesystem::current_path(dir);
  TinyNet net;
  const SeedResult result = Trainer(net, toy_dataset(64, 32), toy_options(1)).run();
  std::filesystem::current_path(before);
  EXPECT_EQ(result.status, SeedStatus::kDone);
  EXPECT_TRUE(std::filesystem::is_empty(dir));
}

TEST(UserModuleTest, BadSpecsAreRefusedBeforeTraining) {
  TrainerOptions options = toy_options(1);
  options.spec.lr = -1;
  TinyNet net;
  EXPECT_THAT([&] { Trainer(net, toy_dataset(64, 16), options); },
              ThrowsMessage<c10::ValueError>(HasSubstr("TrainSpec: train.lr: expected a number > 0 (got -1)")));
  options = toy_options(1);
  options.spec.cuda_graph = true;
  EXPECT_THAT([&] { Trainer(net, toy_dataset(64, 16), options).run(); },
              ThrowsMessage<c10::ValueError>(HasSubstr("CUDA graphs need a CUDA device")));
}

// A hook with state of its own: a running mean of the loss on a held-out batch, measured after
// every step by its own forward pass, and a gradient norm from its own backward pass.
class ValidationProbe : public StepHook {
 public:
  explicit ValidationProbe(data::Split validation) : validation_(std::move(validation)) {}

  void after_step(const StepContext& c) override {
    c.module->eval();  // no BN statistics from validation batches
    const auto indices = torch::arange(validation_.size());
    const auto loss = torch::nn::functional::cross_entropy(c.forward(c.input(validation_, indices)), validation_.labels);
    loss.backward();  // left in .grad; the next step zeroes it
    c.module->train();
    mean_ = mean_ * 0.9 + loss.detach() * 0.1;
    grad_norm_ += c.module->parameters().front().grad().norm().item<double>();
    ++calls_;
  }
  void save(torch::serialize::OutputArchive& archive) const override {
    archive.write("mean", mean_);
    archive.write("grad_norm", c10::IValue(grad_norm_));
    archive.write("calls", c10::IValue(calls_));
  }
  void load(torch::serialize::InputArchive& archive) override {
    archive.read("mean", mean_);
    c10::IValue value;
    archive.read("grad_norm", value);
    grad_norm_ = value.toDouble();
    archive.read("calls", value);
    calls_ = value.toInt();
  }

  torch::Tensor mean_ = torch::zeros({});
  double grad_norm_ = 0;
  int64_t calls_ = 0;

 private:
  data::Split validation_;
};

TEST(StepHookTest, RunsAfterEveryStepWithItsOwnPassesAndLeavesTheTrainingAsItWas) {
  const data::Dataset data = toy_dataset();  // 6 steps of 32 per epoch
  torch::manual_seed(1);
  TinyNet plain;
  torch::manual_seed(1);
  TinyNet probed;
  ASSERT_EQ(Trainer(plain, data, toy_options(2)).run().status, SeedStatus::kDone);
  auto probe = std::make_shared<ValidationProbe>(data.test.head(16));
  TrainerOptions options = toy_options(2);
  options.hooks.step = probe;
  ASSERT_EQ(Trainer(probed, data, options).run().status, SeedStatus::kDone);
  EXPECT_EQ(probe->calls_, 12);
  EXPECT_GT(probe->grad_norm_, 0);
  expect_bitwise_equal(state_of(*plain), state_of(*probed));  // its backward passes never reached an update
}

// Records the pipeline's host-to-device upload count after every step (the seam: data/host_upload.h).
class UploadCounter : public StepHook {
 public:
  void after_step(const StepContext& c) override { counts[static_cast<size_t>(c.epoch)].push_back(data::detail::upload_count()); }
  std::vector<std::vector<int64_t>> counts = std::vector<std::vector<int64_t>>(3);
};

// On a GPU each upload from pageable memory synchronizes the stream, so the host would wait for
// every step; the CPU counts the same calls.
TEST(UploadTest, TrainingUploadsEachEpochsBatchesOnceAndNothingPerStep) {
  const data::Dataset data = toy_dataset();  // 6 steps of 32 per epoch
  auto counter = std::make_shared<UploadCounter>();
  TrainerOptions options = toy_options(3);
  options.hooks.step = counter;
  TinyNet net;
  ASSERT_EQ(Trainer(net, data, options).run().status, SeedStatus::kDone);
  for (size_t epoch = 0; epoch < 3; ++epoch) {
    ASSERT_EQ(counter->counts[epoch].size(), 6u);
    for (size_t step = 1; step < 6; ++step) EXPECT_EQ(counter->counts[epoch][step], counter->counts[epoch][0]) << epoch;
  }
  // Between two epochs: the test pass (indices made on the device, constants cached) and the next
  // epoch's one upload.
  EXPECT_EQ(counter->counts[1][0] - counter->counts[0][5], 1);
  EXPECT_EQ(counter->counts[2][0] - counter->counts[1][5], 1);
  // The seam counts: a single augmented make_batch with a new normalizer uploads the batch's crops
  // and the normalizer's constants.
  const int64_t before = data::detail::upload_count();
  data::make_batch(data.train.images, torch::arange(4), data::Normalizer(data.mean, data.std), {}, {}, true);
  EXPECT_EQ(data::detail::upload_count() - before, 2);
}

TEST(StepHookTest, ItsStateResumesBitwiseFromTheCheckpoint) {
  const data::Dataset data = toy_dataset();
  const data::Split validation = data.test.head(16);
  torch::manual_seed(2);
  TinyNet straight_net;
  torch::manual_seed(2);
  TinyNet resumed_net;
  auto straight = std::make_shared<ValidationProbe>(validation);
  TrainerOptions options = toy_options(2, test::scratch_dir("hook-straight") / "seed-0");
  options.hooks.step = straight;
  ASSERT_EQ(Trainer(straight_net, data, options).run().status, SeedStatus::kDone);

  const auto dir = test::scratch_dir("hook-resumed") / "seed-0";
  int64_t polls = 0;
  options = toy_options(2, dir);
  options.hooks.stop_requested = [&] { return ++polls == 4; };  // stop after step 4 of epoch 1
  options.hooks.step = std::make_shared<ValidationProbe>(validation);
  ASSERT_EQ(Trainer(resumed_net, data, options).run().status, SeedStatus::kStopped);
  TinyNet fresh;  // a new process: the weights and the hook's state come from the checkpoint only
  auto resumed = std::make_shared<ValidationProbe>(validation);
  options = toy_options(2, dir);
  options.hooks.step = resumed;
  ASSERT_EQ(Trainer(fresh, data, options).run().status, SeedStatus::kDone);
  EXPECT_EQ(resumed->calls_, 12);
  EXPECT_TRUE(torch::equal(resumed->mean_, straight->mean_));
  EXPECT_EQ(resumed->grad_norm_, straight->grad_norm_);
  expect_bitwise_equal(state_of(*straight_net), state_of(*fresh));
}

// What a hook sees of the steps' precision: fp32 parameters and buffers after every step, and logits
// in the autocast dtype inside AutocastScope(c.device, c.amp), fp32 outside it.
class PrecisionProbe : public StepHook {
 public:
  explicit PrecisionProbe(data::Split batch) : batch_(std::move(batch)) {}
  void after_step(const StepContext& c) override {
    for (const auto& t : c.module->parameters()) fp32_state = fp32_state && t.scalar_type() == torch::kFloat;
    for (const auto& t : c.module->buffers()) fp32_state = fp32_state && (!t.is_floating_point() || t.scalar_type() == torch::kFloat);
    torch::NoGradGuard no_grad;
    const torch::Tensor x = c.input(batch_, torch::arange(batch_.size()));
    {
      AutocastScope autocast(c.device, c.amp);
      scoped_logits = c.forward(x).scalar_type();
    }
    plain_logits = c.forward(x).scalar_type();
  }
  bool fp32_state = true;
  c10::ScalarType scoped_logits = c10::ScalarType::Undefined, plain_logits = c10::ScalarType::Undefined;

 private:
  data::Split batch_;
};

// bf16 on the CPU is PyTorch's CPU autocast: convolutions and linear layers in bf16, the weights, BN
// statistics and the optimizer's momentum in fp32, and a loss that falls.
TEST(PrecisionTest, Bf16OnTheCpuTrainsWithFp32WeightsAndOptimizerState) {
  const data::Dataset data = toy_dataset();
  const auto dir = test::scratch_dir("bf16-cpu") / "seed-0";
  auto probe = std::make_shared<PrecisionProbe>(data.test.head(8));
  TrainerOptions options = toy_options(4, dir);
  options.spec.amp = Amp::kBf16;
  options.hooks.step = probe;
  torch::manual_seed(3);
  TinyNet bf16;
  const SeedResult result = Trainer(bf16, data, options).run();
  ASSERT_EQ(result.status, SeedStatus::kDone) << result.message;
  EXPECT_LT(result.metrics.back().train_loss, result.metrics.front().train_loss);
  EXPECT_TRUE(probe->fp32_state);
  EXPECT_EQ(probe->scoped_logits, torch::kBFloat16);
  EXPECT_EQ(probe->plain_logits, torch::kFloat);  // the scope restores autocast's previous state

  torch::serialize::InputArchive checkpoint, optimizer;
  checkpoint.load_from(SeedFiles(dir).checkpoint.string());
  checkpoint.read("optimizer", optimizer);
  c10::IValue buffers;
  optimizer.read("buffers", buffers);
  ASSERT_GT(buffers.toInt(), 0);
  for (int64_t i = 0; i < buffers.toInt(); ++i) {
    torch::Tensor momentum;
    optimizer.read("momentum_buffer." + std::to_string(i), momentum, /*is_buffer=*/true);
    EXPECT_EQ(momentum.scalar_type(), torch::kFloat) << i;
  }

  torch::manual_seed(3);  // the same start in fp32 ends elsewhere: the steps did run in bf16
  TinyNet fp32;
  ASSERT_EQ(Trainer(fp32, data, toy_options(4)).run().status, SeedStatus::kDone);
  EXPECT_FALSE(torch::equal(fp32->conv->weight, bf16->conv->weight));
}

TEST(PrecisionTest, Bf16RunInterruptedAndResumedOnTheCpuIsBitwiseIdentical) {
  const data::Dataset data = toy_dataset();  // 6 steps of 32 per epoch
  TrainerOptions options = toy_options(2, test::scratch_dir("bf16-straight") / "seed-0");
  options.spec.amp = Amp::kBf16;
  torch::manual_seed(4);
  TinyNet straight;
  torch::manual_seed(4);
  TinyNet interrupted;
  ASSERT_EQ(Trainer(straight, data, options).run().status, SeedStatus::kDone);
  options.dir = test::scratch_dir("bf16-resumed") / "seed-0";
  int64_t polls = 0;
  options.hooks.stop_requested = [&] { return ++polls == 4; };  // after step 4 of epoch 1
  ASSERT_EQ(Trainer(interrupted, data, options).run().status, SeedStatus::kStopped);
  options.hooks.stop_requested = nullptr;
  TinyNet fresh;  // a new process: everything comes from the checkpoint
  ASSERT_EQ(Trainer(fresh, data, options).run().status, SeedStatus::kDone);
  expect_bitwise_equal(state_of(*straight), state_of(*fresh));
}

void truncate(const std::filesystem::path& file, uintmax_t size) { std::filesystem::resize_file(file, size); }

TEST(CheckpointFilesTest, ADamagedCheckpointFallsBackToThePreviousOne) {
  const data::Dataset data = toy_dataset();
  torch::manual_seed(3);
  TinyNet straight;
  torch::manual_seed(3);
  TinyNet interrupted;
  ASSERT_EQ(Trainer(straight, data, toy_options(3)).run().status, SeedStatus::kDone);

  const auto dir = test::scratch_dir("fallback") / "seed-0";
  int64_t epochs_seen = 0;
  TrainerOptions options = toy_options(3, dir);
  options.hooks.on_epoch = [&](const EpochMetrics&) { ++epochs_seen; };
  options.hooks.stop_requested = [&] { return epochs_seen == 2; };
  ASSERT_EQ(Trainer(interrupted, data, options).run().status, SeedStatus::kStopped);  // checkpoints of epochs 1, 2
  const SeedFiles files(dir);
  truncate(files.checkpoint, std::filesystem::file_size(files.checkpoint) / 2);  // a write that never finished

  std::vector<std::string> messages;
  TinyNet resumed;
  options = toy_options(3, dir);
  options.hooks.on_message = [&](const std::string& m) { messages.push_back(m); };
  const SeedResult result = Trainer(resumed, data, options).run();
  ASSERT_EQ(result.status, SeedStatus::kDone);
  ASSERT_FALSE(messages.empty());
  EXPECT_EQ(messages.front(), "checkpoint.pt is not readable (truncated, or not a PyTorch archive); resuming from "
                              "checkpoint.prev.pt, the checkpoint before it");
  EXPECT_EQ(messages.at(1), "resuming seed 0 from epoch 2, step 0");
  EXPECT_EQ(result.metrics.size(), 3u);
  expect_bitwise_equal(state_of(*straight), state_of(*resumed));  // epoch 2 was trained again, the same way
}

TEST(CheckpointFilesTest, AMissingCheckpointBesideAPreviousOneResumesFromIt) {
  const auto dir = test::scratch_dir("missing-latest") / "seed-0";
  const data::Dataset data = toy_dataset(64, 16);
  TinyNet net;
  ASSERT_EQ(Trainer(net, data, toy_options(2, dir)).run().status, SeedStatus::kDone);
  const SeedFiles files(dir);
  std::filesystem::remove(files.checkpoint);  // a crash between the two renames of a checkpoint write
  std::filesystem::remove(files.model);
  std::string message;
  TrainerOptions options = toy_options(2, dir);
  options.hooks.on_message = [&](const std::string& m) { message += m + "\n"; };
  TinyNet again;
  EXPECT_EQ(Trainer(again, data, options).run().status, SeedStatus::kDone);
  EXPECT_THAT(message, HasSubstr("checkpoint.pt is missing (a write was interrupted); resuming from checkpoint.prev.pt"));
  EXPECT_TRUE(std::filesystem::exists(files.model));
}

TEST(CheckpointFilesTest, DamagedFilesAreNamedInOneLineWithWhatToDo) {
  const auto dir = test::scratch_dir("damaged") / "seed-0";
  const data::Dataset data = toy_dataset(64, 16);
  TinyNet net;
  ASSERT_EQ(Trainer(net, data, toy_options(1, dir)).run().status, SeedStatus::kDone);
  const SeedFiles files(dir);
  std::filesystem::remove(files.previous_checkpoint);  // one epoch: there is none anyway
  truncate(files.checkpoint, 100);
  std::ofstream(files.model, std::ios::trunc).close();  // empty

  const std::string checkpoint = "\"" + files.checkpoint.string() + "\" is not a readable checkpoint (truncated, or not "
                                 "a PyTorch archive); move it away to start this seed afresh";
  EXPECT_THAT([&] { Trainer(net, data, toy_options(1, dir)).run(); }, ThrowsMessage<c10::Error>(HasSubstr(checkpoint)));
  EXPECT_THAT([&] { read_checkpoint_metrics(files.checkpoint); }, ThrowsMessage<c10::Error>(HasSubstr(checkpoint)));
  EXPECT_THAT([&] { load_weights(*net, files.model); },
              ThrowsMessage<c10::Error>(HasSubstr("\"" + files.model.string() + "\" is not a readable model file (an "
                                                  "empty file); retrain the seed, or evaluate its checkpoint.pt")));
  EXPECT_THAT([&] { load_weights(*net, dir / "absent.pt"); },
              ThrowsMessage<c10::Error>(HasSubstr("absent.pt\": No such file or directory")));
}

TEST(CheckpointFilesTest, ACheckpointOfAnotherNetworkIsNamed) {
  const auto dir = test::scratch_dir("other-network") / "seed-0";
  const data::Dataset data = toy_dataset(64, 16);
  TinyNet net;
  TrainerOptions options = toy_options(2, dir);
  options.hooks.stop_requested = [] { return true; };
  ASSERT_EQ(Trainer(net, data, options).run().status, SeedStatus::kStopped);
  auto other = std::make_shared<OtherNet>();
  EXPECT_THAT([&] { Trainer(other, data, toy_options(2, dir)).run(); },
              ThrowsMessage<c10::Error>(HasSubstr("holds another network than this run builds")));
}

TEST(AtomicFileTest, ReplacesKeepsThePreviousAndLeavesNothingBehindAFailedWrite) {
  const auto dir = test::scratch_dir("atomic");
  const auto file = dir / "x.txt", previous = dir / "x.prev.txt";
  write_text_atomically(file, "one");
  write_atomically(file, [](const std::filesystem::path& temp) { std::ofstream(temp) << "two"; }, previous);
  const auto read = [](const std::filesystem::path& p) {
    std::ifstream in(p);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  EXPECT_EQ(read(file), "two");
  EXPECT_EQ(read(previous), "one");
  EXPECT_THROW(write_atomically(file, [](const std::filesystem::path& temp) {
                 std::ofstream(temp) << "torn";
                 throw std::runtime_error("disk full");
               }, previous),
               std::runtime_error);
  EXPECT_EQ(read(file), "two");  // untouched, and so is the previous one
  EXPECT_EQ(read(previous), "one");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 2);  // no temporary file left
}

}  // namespace
}  // namespace propnet::train
