#include <propnet/train/trainer.h>

#include <chrono>
#include <cmath>
#include <fstream>

#include <ATen/Context.h>
#include <ATen/core/Generator.h>
#include <ATen/ops/arange.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/full.h>
#include <ATen/ops/stack.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>
#include <torch/serialize/archive.h>
#include <torch/utils.h>

#include <propnet/data/epoch_order.h>
#include <propnet/train/device.h>
#include <propnet/train/schedule.h>
#include <propnet/train/sgd.h>

#include "gradient_sync.h"
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
  int64_t world_size = 1;      // data-parallel ranks that wrote it (a partial epoch resumes only with as many)
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
    archive.write("world_size", c10::IValue(p.world_size));
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
  c10::IValue world;
  p.world_size = archive.try_read("world_size", world) ? world.toInt() : 1;
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

}  // namespace

SeedFiles::SeedFiles(std::filesystem::path dir_)
    : dir(std::move(dir_)),
      checkpoint(dir / "checkpoint.pt"),
      model(dir / "model.pt"),
      metrics_jsonl(dir / "metrics.jsonl"),
      metrics_csv(dir / "metrics.csv") {}

namespace {

// Sums of (loss, correct, images) over the ranks; one all-reduce, or none in a single process.
struct Totals {
  double loss_sum = 0;
  int64_t correct = 0;
  int64_t images = 0;
};
Totals global_totals(const detail::DeviceSums& sums, int64_t images, dist::Group* group) {
  if (group == nullptr) return {sums.loss_sum.item<double>(), sums.correct.item<int64_t>(), images};
  at::Tensor t = at::stack({sums.loss_sum.to(at::kDouble), sums.correct.to(at::kDouble),
                            at::full({}, static_cast<double>(images), sums.loss_sum.options().dtype(at::kDouble))});
  group->allreduce_sum(t);
  t = t.cpu();
  const double* v = t.data_ptr<double>();
  return {v[0], static_cast<int64_t>(std::llround(v[1])), static_cast<int64_t>(std::llround(v[2]))};
}

// The test pass through `runner` (eager, or replayed from a CUDA graph). With a group, rank r
// evaluates the r-th contiguous slice of the split and the sums are all-reduced.
EvalResult evaluate_with(detail::StepRunner& runner, models::Network& net, const data::Split& split,
                         const data::Normalizer& normalizer, int64_t batch_size, bool channels_last,
                         dist::Group* group = nullptr) {
  TORCH_CHECK_VALUE(batch_size > 0, "evaluate: expected batch_size > 0 (got ", batch_size, ")");
  const bool was_training = net->is_training();
  net->eval();
  runner.sums().reset();
  const int64_t n = split.size();
  const int64_t rank = group ? group->rank() : 0, world = group ? group->world_size() : 1;
  const int64_t begin = n * rank / world, end = n * (rank + 1) / world;
  for (int64_t start = begin; start < end; start += batch_size) {
    const auto indices = at::arange(start, std::min(end, start + batch_size), at::TensorOptions().dtype(at::kLong));
    auto x = data::make_batch(split.images, indices, normalizer, {}, {}, /*train=*/false);
    if (channels_last) x = to_channels_last(x);
    runner.run(x, split.labels.slice(0, start, start + indices.size(0)));
  }
  net->train(was_training);
  const Totals totals = global_totals(runner.sums(), end - begin, group);
  EvalResult r;
  r.images = n;
  r.loss = n ? totals.loss_sum / static_cast<double>(n) : 0.0;
  r.accuracy = n ? 100.0 * static_cast<double>(totals.correct) / static_cast<double>(n) : 0.0;
  return r;
}

std::vector<at::Tensor> state_tensors(models::Network& net) {
  std::vector<at::Tensor> tensors = net->parameters();
  for (const auto& b : net->buffers()) tensors.push_back(b);
  return tensors;
}

// Throws on every rank unless all ranks hold bitwise the same parameters and buffers as rank 0.
void check_replicas(dist::Group& group, models::Network& net, int64_t epoch) {
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> mine, flat;
  for (const auto& t : state_tensors(net)) mine.push_back(t.detach().reshape(-1).to(at::kDouble));
  const at::Tensor own = at::cat(mine);
  at::Tensor reference = own.clone();
  group.broadcast(reference, 0);
  const double differ = own.ne(reference).sum().item<double>();
  at::Tensor count = at::full({2}, 0.0, own.options());
  count[0] = differ;
  count[1] = differ > 0 ? 1.0 : 0.0;
  group.allreduce_sum(count);
  count = count.cpu();
  TORCH_CHECK(count[1].item<double>() == 0, "train: after epoch ", epoch, ", ", count[1].item<double>(), " of ",
              group.world_size(), " ranks hold weights that differ from rank 0's (", count[0].item<double>(),
              " values in all); data-parallel replicas diverged");
}

}  // namespace

EvalResult evaluate(models::Network& net, const data::Split& split, const data::Normalizer& normalizer,
                    int64_t batch_size, const TrainSpec& precision) {
  const auto runner = detail::make_eval_runner(net, precision, split.images.device());
  return evaluate_with(*runner, net, split, normalizer, batch_size,
                       resolve_channels_last(precision.channels_last, split.images.device()));
}

SeedResult train_seed(const ExperimentConfig& config, int64_t seed, const data::Dataset& data,
                      const c10::Device& device, const SeedFiles& files, const TrainerHooks& hooks,
                      const std::shared_ptr<dist::Group>& group_ptr) {
  const TrainSpec& spec = config.train;
  auto message = [&](const std::string& text) {
    if (hooks.on_message) hooks.on_message(text);
  };
  dist::Group* const group = group_ptr && group_ptr->world_size() > 1 ? group_ptr.get() : nullptr;
  const int64_t rank = group ? group->rank() : 0;
  const int64_t world = group ? group->world_size() : 1;
  const bool writer = rank == 0;  // only rank 0 writes files
  if (writer) std::filesystem::create_directories(files.dir);
  if (device.is_cuda()) {
    at::globalContext().setBenchmarkCuDNN(!spec.deterministic);
    at::globalContext().setDeterministicCuDNN(spec.deterministic);
  }

  // Weights, data order and augmentation all derive from the seed.
  torch::manual_seed(static_cast<uint64_t>(seed));
  models::Network net(config.network);
  net->to(device);
  const bool channels_last = resolve_channels_last(spec.channels_last, device);
  if (channels_last) detail::to_channels_last(net);
  MultiTensorSGD optimizer(net->parameters(), detail::sgd_options(spec));

  const data::Split train = data.train.head(config.data.subset);
  const data::Split test = data.test.head(config.data.test_subset);
  const data::Normalizer normalizer(data.mean, data.std);
  const auto augment = data::AugmentOptions().enabled(config.data.augment);
  int64_t batch_size = spec.batch_size;  // per rank
  if (world > 1 && spec.batch_scope == BatchScope::kGlobal) {
    TORCH_CHECK_VALUE(batch_size % world == 0, "train.batch_size: expected a multiple of the ", world,
                      " ranks, as train.batch_scope is \"global\" (got ", batch_size,
                      "); change it, or set train.batch_scope \"rank\" for ", batch_size, " images per rank");
    batch_size /= world;
  }
  const data::EpochOrder order(train.size(), data::EpochOrderOptions(batch_size)
                                                 .seed(static_cast<uint64_t>(seed))
                                                 .drop_last(config.data.drop_last)
                                                 .rank(rank)
                                                 .world_size(world));
  const int64_t steps = order.batches_per_epoch();
  TORCH_CHECK_VALUE(steps > 0, "train: ", train.size(), " training images make no batch of ", batch_size,
                    " with drop_last; lower train.batch_size or keep the last batch");

  Progress progress;
  SeedResult result;
  result.seed = seed;
  const bool has_checkpoint = std::filesystem::exists(files.checkpoint);
  if (has_checkpoint) progress = load_checkpoint(files, net, optimizer);
  if (group) {
    // Every rank must resume from the same place (the run folder on a shared filesystem).
    at::Tensor where = at::empty({4}, at::TensorOptions().dtype(at::kDouble));
    double* w = where.data_ptr<double>();
    w[0] = has_checkpoint ? 1.0 : 0.0;
    w[1] = static_cast<double>(progress.epoch);
    w[2] = static_cast<double>(progress.step);
    w[3] = progress.finished ? 1.0 : 0.0;
    where = where.to(device);
    at::Tensor rank0 = where.clone();
    group->broadcast(rank0, 0);
    at::Tensor mismatch = rank0.ne(where).any().to(at::kDouble).reshape({1});
    group->allreduce_sum(mismatch);
    TORCH_CHECK(mismatch.item<double>() == 0, "train: ", mismatch.item<double>(), " rank(s) see another checkpoint "
                "than rank 0 in \"", files.dir.string(), "\"; a data-parallel run needs its run folder on a "
                "filesystem that every rank shares");
    if (!writer) {  // rank 0's checkpoint holds the partial sums of all ranks
      progress.loss_sum = 0;
      progress.correct = 0;
      progress.seen = 0;
    }
  }
  TORCH_CHECK_VALUE(!(has_checkpoint && progress.step > 0 && progress.world_size != world), "train: \"",
                    files.checkpoint.string(), "\" stopped in the middle of an epoch with ", progress.world_size,
                    " rank(s); expected as many to resume it (got ", world, ")");
  progress.world_size = world;
  if (has_checkpoint) {
    if (progress.finished && std::filesystem::exists(files.model)) {
      result.metrics = progress.metrics;
      message("seed " + std::to_string(seed) + " already finished; skipping");
      return result;
    }
    message("resuming seed " + std::to_string(seed) + " from epoch " + std::to_string(progress.epoch + 1) +
            ", step " + std::to_string(progress.step));
  }

  std::unique_ptr<detail::GradientSync> sync;
  if (group) {
    group->broadcast_all(state_tensors(net));  // rank 0's weights and buffers everywhere
    sync = std::make_unique<detail::GradientSync>(group_ptr, optimizer.gradients());
  }
  // After the checkpoint: a CUDA graph must capture the restored tensors.
  const auto train_step = detail::make_train_runner(net, optimizer, spec, device, sync.get());
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
    int64_t seen = progress.seen;
    const auto epoch_start = Clock::now();
    const double carried_seconds = progress.step > 0 ? progress.train_seconds : 0.0;

    // Loss, correct and images of the epoch so far, over all ranks (a collective with a group).
    auto totals = [&] { return global_totals(train_step->sums(), seen, group); };
    auto read_progress = [&](int64_t step_done, const Totals& t) {
      StepProgress sp;
      sp.epoch = epoch + 1;
      sp.epochs = spec.epochs;
      sp.step = step_done;
      sp.steps = steps;
      sp.loss = t.loss_sum / static_cast<double>(std::max<int64_t>(t.images, 1));
      sp.accuracy = 100.0 * static_cast<double>(t.correct) / static_cast<double>(std::max<int64_t>(t.images, 1));
      const double elapsed = seconds_since(session_start);
      sp.images_per_s = static_cast<double>(t.images) / std::max(carried_seconds + seconds_since(epoch_start), 1e-9);
      const int64_t remaining = (spec.epochs - epoch) * steps - step_done;
      sp.eta_seconds = session_steps > 0 ? elapsed / static_cast<double>(session_steps) * static_cast<double>(remaining) : 0.0;
      return sp;
    };

    for (int64_t step = progress.step; step < steps; ++step) {
      const at::Tensor& indices = batches[static_cast<size_t>(step)];
      data::BatchKey key{static_cast<uint64_t>(seed), epoch, step};
      key.rank = rank;
      key.world_size = world;
      at::Tensor x = data::make_batch(train.images, indices, normalizer, augment, key, /*train=*/true);
      if (channels_last) x = to_channels_last(x);
      if (sync) sync->set_stop_flag(hooks.stop_requested && hooks.stop_requested());
      train_step->run(x, train.labels.index_select(0, indices.to(train.labels.device())));
      seen += x.size(0);
      ++session_steps;

      const bool last = step + 1 == steps;
      const bool log_point = (step + 1) % std::max<int64_t>(spec.log_every, 1) == 0;
      // Ranks stop together, on the flags their last gradient all-reduce carried (read every step
      // on CPU; on CUDA only where a log read syncs the device anyway).
      const bool stop = sync ? (device.is_cpu() || log_point || last) && sync->any_stop()
                             : hooks.stop_requested && hooks.stop_requested();
      Totals epoch_totals;
      if (log_point || last || stop) {
        epoch_totals = totals();
        const StepProgress sp = read_progress(step + 1, epoch_totals);
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
        progress.loss_sum = epoch_totals.loss_sum;
        progress.correct = epoch_totals.correct;
        progress.seen = epoch_totals.images;
        progress.train_seconds = carried_seconds + seconds_since(epoch_start);
        if (group) group->average_all(net->buffers());
        if (writer) save_checkpoint(files, config, net, optimizer, progress);
        result.status = SeedStatus::kStopped;
        result.message = "stopped in epoch " + std::to_string(epoch + 1) + " after step " + std::to_string(step + 1);
        result.metrics = progress.metrics;
        return result;
      }
    }

    const double train_seconds = carried_seconds + seconds_since(epoch_start);
    const Totals epoch_totals = totals();
    EpochMetrics m;
    m.epoch = epoch + 1;
    m.lr = lr;
    m.train_loss = epoch_totals.loss_sum / static_cast<double>(epoch_totals.images);
    m.train_acc = 100.0 * static_cast<double>(epoch_totals.correct) / static_cast<double>(epoch_totals.images);
    m.images_per_s = static_cast<double>(epoch_totals.images) / std::max(train_seconds, 1e-9);
    if (group) {
      group->average_all(net->buffers());  // BN running statistics: per rank while training
      check_replicas(*group, net, epoch + 1);
      message("epoch " + std::to_string(epoch + 1) + ": weights and buffers bitwise identical on all " +
              std::to_string(world) + " ranks");
    }
    const auto eval_start = Clock::now();
    const EvalResult eval =
        evaluate_with(*test_step, net, test, normalizer, spec.eval_batch_size, channels_last, group);
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
    if (writer) write_metrics_files(files, progress.metrics);
    if (hooks.on_epoch) hooks.on_epoch(m);

    const bool stop = sync ? sync->any_stop() : hooks.stop_requested && hooks.stop_requested();
    if (progress.finished && writer) {
      write_atomically(files.model, [&](const std::filesystem::path& temp) {
        torch::serialize::OutputArchive archive;
        net->save(archive);
        archive.save_to(temp.string());
      });
    }
    if (writer && (progress.finished || stop || progress.epoch % std::max<int64_t>(spec.checkpoint_every, 1) == 0)) {
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
