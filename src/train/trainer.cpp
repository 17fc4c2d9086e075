#include <propnet/train/trainer.h>

#include <chrono>
#include <cmath>
#include <fstream>

#include <ATen/Context.h>
#include <ATen/core/Generator.h>
#include <ATen/ops/arange.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>
#include <torch/serialize/archive.h>
#include <torch/utils.h>

#include <propnet/data/epoch_order.h>
#include <propnet/train/schedule.h>
#include <propnet/train/sgd.h>

#include "step_runner.h"

namespace propnet::train {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int64_t kCheckpointFormat = 2;  // 2: MultiTensorSGD's momentum buffers

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Temp file + rename: an interrupted write never leaves a torn checkpoint behind.
template <typename Write>
void write_atomically(const std::filesystem::path& path, Write write) {
  const std::filesystem::path temp = path.string() + ".tmp";
  write(temp);
  std::filesystem::rename(temp, path);
}

nlohmann::json to_json(const EpochMetrics& m) {
  return {{"epoch", m.epoch},         {"lr", m.lr},           {"train_loss", m.train_loss},
          {"train_acc", m.train_acc}, {"test_loss", m.test_loss}, {"test_acc", m.test_acc},
          {"epoch_seconds", m.seconds}, {"images_per_s", m.images_per_s}};
}

EpochMetrics metrics_from_json(const nlohmann::json& j) {
  EpochMetrics m;
  m.epoch = j.at("epoch").get<int64_t>();
  m.lr = j.at("lr").get<double>();
  m.train_loss = j.at("train_loss").get<double>();
  m.train_acc = j.at("train_acc").get<double>();
  m.test_loss = j.at("test_loss").get<double>();
  m.test_acc = j.at("test_acc").get<double>();
  m.seconds = j.at("epoch_seconds").get<double>();
  m.images_per_s = j.at("images_per_s").get<double>();
  return m;
}

void write_metrics_files(const SeedFiles& files, const std::vector<EpochMetrics>& metrics) {
  write_atomically(files.metrics_jsonl, [&](const std::filesystem::path& temp) {
    std::ofstream out(temp);
    for (const auto& m : metrics) out << to_json(m).dump() << "\n";
    TORCH_CHECK(out.good(), "train: cannot write \"", temp.string(), "\"");
  });
  write_atomically(files.metrics_csv, [&](const std::filesystem::path& temp) {
    std::ofstream out(temp);
    out << "epoch,lr,train_loss,train_acc,test_loss,test_acc,epoch_seconds,images_per_s\n";
    out.precision(10);
    for (const auto& m : metrics) {
      out << m.epoch << "," << m.lr << "," << m.train_loss << "," << m.train_acc << "," << m.test_loss << ","
          << m.test_acc << "," << m.seconds << "," << m.images_per_s << "\n";
    }
    TORCH_CHECK(out.good(), "train: cannot write \"", temp.string(), "\"");
  });
}

// Where a seed stands: everything a checkpoint holds besides the weights and optimizer state.
struct Progress {
  int64_t epoch = 0;           // epochs completed
  int64_t step = 0;            // steps completed within epoch `epoch` (0-based epoch index)
  double loss_sum = 0;         // partial sums of that epoch
  int64_t correct = 0;
  int64_t seen = 0;
  double train_seconds = 0;
  bool finished = false;
  std::vector<EpochMetrics> metrics;
};

void save_checkpoint(const SeedFiles& files, const ExperimentConfig& config, models::Network& net,
                     const MultiTensorSGD& optimizer, const Progress& p) {
  write_atomically(files.checkpoint, [&](const std::filesystem::path& temp) {
    torch::serialize::OutputArchive archive;
    torch::serialize::OutputArchive model, optim;
    net->save(model);
    optimizer.save(optim);
    archive.write("model", model);
    archive.write("optimizer", optim);
    archive.write("format", c10::IValue(kCheckpointFormat));
    archive.write("epoch", c10::IValue(p.epoch));
    archive.write("step", c10::IValue(p.step));
    archive.write("loss_sum", c10::IValue(p.loss_sum));
    archive.write("correct", c10::IValue(p.correct));
    archive.write("seen", c10::IValue(p.seen));
    archive.write("train_seconds", c10::IValue(p.train_seconds));
    archive.write("finished", c10::IValue(p.finished));
    nlohmann::json metrics = nlohmann::json::array();
    for (const auto& m : p.metrics) metrics.push_back(to_json(m));
    archive.write("metrics", c10::IValue(metrics.dump()));
    archive.write("config", c10::IValue(propnet::to_json(config)));
    auto generator = at::detail::getDefaultCPUGenerator();
    archive.write("rng_cpu", generator.get_state(), /*is_buffer=*/true);
    archive.save_to(temp.string());
  });
}

c10::IValue read_value(torch::serialize::InputArchive& archive, const std::string& key) {
  c10::IValue value;
  archive.read(key, value);
  return value;
}

Progress load_checkpoint(const SeedFiles& files, models::Network& net, MultiTensorSGD& optimizer) {
  torch::serialize::InputArchive archive;
  archive.load_from(files.checkpoint.string());
  TORCH_CHECK(read_value(archive, "format").toInt() == kCheckpointFormat, "train: \"", files.checkpoint.string(),
              "\" was written by another propnet version; move it away to start this seed afresh");
  torch::serialize::InputArchive model, optim;
  archive.read("model", model);
  archive.read("optimizer", optim);
  net->load(model);
  optimizer.load(optim);
  Progress p;
  p.epoch = read_value(archive, "epoch").toInt();
  p.step = read_value(archive, "step").toInt();
  p.loss_sum = read_value(archive, "loss_sum").toDouble();
  p.correct = read_value(archive, "correct").toInt();
  p.seen = read_value(archive, "seen").toInt();
  p.train_seconds = read_value(archive, "train_seconds").toDouble();
  p.finished = read_value(archive, "finished").toBool();
  for (const auto& m : nlohmann::json::parse(read_value(archive, "metrics").toStringRef())) {
    p.metrics.push_back(metrics_from_json(m));
  }
  at::Tensor rng;
  archive.read("rng_cpu", rng, /*is_buffer=*/true);
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(rng);
  return p;
}

void to_channels_last(models::Network& net) {
  for (auto& p : net->parameters()) {
    if (p.dim() == 4) p.set_data(p.data().contiguous(at::MemoryFormat::ChannelsLast));
  }
}

}  // namespace

SeedFiles::SeedFiles(std::filesystem::path dir_)
    : dir(std::move(dir_)),
      checkpoint(dir / "checkpoint.pt"),
      model(dir / "model.pt"),
      metrics_jsonl(dir / "metrics.jsonl"),
      metrics_csv(dir / "metrics.csv") {}

namespace {

// The test pass through `runner` (eager, or replayed from a CUDA graph).
EvalResult evaluate_with(detail::StepRunner& runner, models::Network& net, const data::Split& split,
                         const data::Normalizer& normalizer, int64_t batch_size, bool channels_last) {
  TORCH_CHECK_VALUE(batch_size > 0, "evaluate: expected batch_size > 0 (got ", batch_size, ")");
  const bool was_training = net->is_training();
  net->eval();
  runner.sums().reset();
  const int64_t n = split.size();
  for (int64_t start = 0; start < n; start += batch_size) {
    const auto indices = at::arange(start, std::min(n, start + batch_size), at::TensorOptions().dtype(at::kLong));
    auto x = data::make_batch(split.images, indices, normalizer, {}, {}, /*train=*/false);
    if (channels_last) x = x.contiguous(at::MemoryFormat::ChannelsLast);
    runner.run(x, split.labels.slice(0, start, start + indices.size(0)));
  }
  net->train(was_training);
  EvalResult r;
  r.images = n;
  r.loss = n ? runner.sums().loss_sum.item<double>() / static_cast<double>(n) : 0.0;
  r.accuracy = n ? 100.0 * static_cast<double>(runner.sums().correct.item<int64_t>()) / static_cast<double>(n) : 0.0;
  return r;
}

}  // namespace

EvalResult evaluate(models::Network& net, const data::Split& split, const data::Normalizer& normalizer,
                    int64_t batch_size, const TrainSpec& precision) {
  const auto runner = detail::make_eval_runner(net, precision, split.images.device());
  return evaluate_with(*runner, net, split, normalizer, batch_size, precision.channels_last);
}

SeedResult train_seed(const ExperimentConfig& config, int64_t seed, const data::Dataset& data,
                      const c10::Device& device, const SeedFiles& files, const TrainerHooks& hooks) {
  const TrainSpec& spec = config.train;
  auto message = [&](const std::string& text) {
    if (hooks.on_message) hooks.on_message(text);
  };
  std::filesystem::create_directories(files.dir);
  if (device.is_cuda()) {
    at::globalContext().setBenchmarkCuDNN(!spec.deterministic);
    at::globalContext().setDeterministicCuDNN(spec.deterministic);
  }

  // Weights, data order and augmentation all derive from the seed.
  torch::manual_seed(static_cast<uint64_t>(seed));
  models::Network net(config.network);
  net->to(device);
  if (spec.channels_last) to_channels_last(net);
  MultiTensorSGD optimizer(net->parameters(), SGDOptions(spec.lr)
                                                 .momentum(spec.momentum)
                                                 .nesterov(spec.nesterov)
                                                 .weight_decay(spec.weight_decay));

  const data::Split train = data.train.head(config.data.subset);
  const data::Split test = data.test.head(config.data.test_subset);
  const data::Normalizer normalizer(data.mean, data.std);
  const auto augment = data::AugmentOptions().enabled(config.data.augment);
  const data::EpochOrder order(train.size(), data::EpochOrderOptions(spec.batch_size)
                                                 .seed(static_cast<uint64_t>(seed))
                                                 .drop_last(config.data.drop_last));
  const int64_t steps = order.batches_per_epoch();
  TORCH_CHECK_VALUE(steps > 0, "train: ", train.size(), " training images make no batch of ", spec.batch_size,
                    " with drop_last; lower train.batch_size or keep the last batch");

  Progress progress;
  SeedResult result;
  result.seed = seed;
  if (std::filesystem::exists(files.checkpoint)) {
    progress = load_checkpoint(files, net, optimizer);
    if (progress.finished && std::filesystem::exists(files.model)) {
      result.metrics = progress.metrics;
      message("seed " + std::to_string(seed) + " already finished; skipping");
      return result;
    }
    message("resuming seed " + std::to_string(seed) + " from epoch " + std::to_string(progress.epoch + 1) +
            ", step " + std::to_string(progress.step));
  }

  // After the checkpoint: a CUDA graph must capture the restored tensors.
  const auto train_step = detail::make_train_runner(net, optimizer, spec, device);
  const auto test_step = detail::make_eval_runner(net, spec, device);
  const auto session_start = Clock::now();
  int64_t session_steps = 0;

  net->train();
  for (int64_t epoch = progress.epoch; epoch < spec.epochs; ++epoch) {
    const double lr = lr_at(spec, epoch);
    optimizer.set_lr(lr);  // from the schedule, also after a resume
    const auto batches = order.batches(epoch);
    // Device-side sums: one host read per logging interval, none inside a step.
    train_step->sums().reset(progress.loss_sum, progress.correct);
    const at::Tensor& loss_sum = train_step->sums().loss_sum;
    const at::Tensor& correct = train_step->sums().correct;
    int64_t seen = progress.seen;
    const auto epoch_start = Clock::now();
    const double carried_seconds = progress.step > 0 ? progress.train_seconds : 0.0;

    auto read_progress = [&](int64_t step_done) {
      StepProgress sp;
      sp.epoch = epoch + 1;
      sp.epochs = spec.epochs;
      sp.step = step_done;
      sp.steps = steps;
      sp.loss = loss_sum.item<double>() / static_cast<double>(std::max<int64_t>(seen, 1));
      sp.accuracy = 100.0 * static_cast<double>(correct.item<int64_t>()) / static_cast<double>(std::max<int64_t>(seen, 1));
      const double elapsed = seconds_since(session_start);
      sp.images_per_s = static_cast<double>(seen) / std::max(carried_seconds + seconds_since(epoch_start), 1e-9);
      const int64_t remaining = (spec.epochs - epoch) * steps - step_done;
      sp.eta_seconds = session_steps > 0 ? elapsed / static_cast<double>(session_steps) * static_cast<double>(remaining) : 0.0;
      return sp;
    };

    for (int64_t step = progress.step; step < steps; ++step) {
      const at::Tensor& indices = batches[static_cast<size_t>(step)];
      at::Tensor x = data::make_batch(train.images, indices, normalizer, augment,
                                      {static_cast<uint64_t>(seed), epoch, step}, /*train=*/true);
      if (spec.channels_last) x = x.contiguous(at::MemoryFormat::ChannelsLast);
      train_step->run(x, train.labels.index_select(0, indices.to(train.labels.device())));
      seen += x.size(0);
      ++session_steps;

      const bool last = step + 1 == steps;
      const bool stop = hooks.stop_requested && hooks.stop_requested();
      if ((step + 1) % std::max<int64_t>(spec.log_every, 1) == 0 || last || stop) {
        const StepProgress sp = read_progress(step + 1);
        if (!std::isfinite(sp.loss)) {
          result.status = SeedStatus::kFailed;
          result.message = "training loss became " + std::to_string(sp.loss) + " in epoch " +
                           std::to_string(epoch + 1) + " (step " + std::to_string(step + 1) +
                           "); kept the last good checkpoint";
          result.metrics = progress.metrics;
          return result;
        }
        if (hooks.on_progress) hooks.on_progress(sp);
      }
      if (stop && !last) {
        progress.epoch = epoch;
        progress.step = step + 1;
        progress.loss_sum = loss_sum.item<double>();
        progress.correct = correct.item<int64_t>();
        progress.seen = seen;
        progress.train_seconds = carried_seconds + seconds_since(epoch_start);
        save_checkpoint(files, config, net, optimizer, progress);
        result.status = SeedStatus::kStopped;
        result.message = "stopped in epoch " + std::to_string(epoch + 1) + " after step " + std::to_string(step + 1);
        result.metrics = progress.metrics;
        return result;
      }
    }

    const double train_seconds = carried_seconds + seconds_since(epoch_start);
    EpochMetrics m;
    m.epoch = epoch + 1;
    m.lr = lr;
    m.train_loss = loss_sum.item<double>() / static_cast<double>(seen);
    m.train_acc = 100.0 * static_cast<double>(correct.item<int64_t>()) / static_cast<double>(seen);
    m.images_per_s = static_cast<double>(seen) / std::max(train_seconds, 1e-9);
    const auto eval_start = Clock::now();
    const EvalResult eval = evaluate_with(*test_step, net, test, normalizer, spec.eval_batch_size, spec.channels_last);
    m.test_loss = eval.loss;
    m.test_acc = eval.accuracy;
    m.seconds = train_seconds + seconds_since(eval_start);
    progress.metrics.push_back(m);
    progress.epoch = epoch + 1;
    progress.step = 0;
    progress.loss_sum = 0;
    progress.correct = 0;
    progress.seen = 0;
    progress.train_seconds = 0;
    progress.finished = progress.epoch == spec.epochs;
    write_metrics_files(files, progress.metrics);
    if (hooks.on_epoch) hooks.on_epoch(m);

    const bool stop = hooks.stop_requested && hooks.stop_requested();
    if (progress.finished) {
      write_atomically(files.model, [&](const std::filesystem::path& temp) {
        torch::serialize::OutputArchive archive;
        net->save(archive);
        archive.save_to(temp.string());
      });
    }
    if (progress.finished || stop || progress.epoch % std::max<int64_t>(spec.checkpoint_every, 1) == 0) {
      save_checkpoint(files, config, net, optimizer, progress);
    }
    if (stop && !progress.finished) {
      result.status = SeedStatus::kStopped;
      result.message = "stopped after epoch " + std::to_string(progress.epoch);
      result.metrics = progress.metrics;
      return result;
    }
  }
  result.metrics = progress.metrics;
  return result;
}

std::vector<EpochMetrics> read_checkpoint_metrics(const std::filesystem::path& checkpoint) {
  torch::serialize::InputArchive archive;
  archive.load_from(checkpoint.string());
  std::vector<EpochMetrics> metrics;
  for (const auto& m : nlohmann::json::parse(read_value(archive, "metrics").toStringRef())) {
    metrics.push_back(metrics_from_json(m));
  }
  return metrics;
}

std::string read_checkpoint_config(const std::filesystem::path& checkpoint) {
  torch::serialize::InputArchive archive;
  archive.load_from(checkpoint.string());
  return read_value(archive, "config").toStringRef();
}

void load_weights(models::Network& net, const std::filesystem::path& path) {
  TORCH_CHECK_VALUE(std::filesystem::exists(path), "cannot open \"", path.string(), "\": No such file or directory");
  torch::serialize::InputArchive archive;
  archive.load_from(path.string());
  torch::serialize::InputArchive model;
  if (archive.try_read("model", model)) {
    net->load(model);  // a checkpoint.pt
  } else {
    net->load(archive);  // a model.pt
  }
}

}  // namespace propnet::train
