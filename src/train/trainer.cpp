// The training loop of one seed (include/propnet/train/trainer.h). The pieces it drives live beside
// it: setup.h (device, layout, optimizer, step runners), checkpoint.h, evaluation.h, replicas.h.
#include <propnet/train/trainer.h>

#include <chrono>
#include <cmath>

#include <c10/util/Exception.h>
#include <torch/nn/module.h>

#include <propnet/data/epoch_order.h>
#include <propnet/data/transforms.h>
#include <propnet/train/device.h>
#include <propnet/train/schedule.h>

#include "checkpoint.h"
#include "evaluation.h"
#include "gradient_sync.h"
#include "metrics_io.h"
#include "replicas.h"
#include "setup.h"

namespace propnet::train {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

}  // namespace

SeedFiles::SeedFiles(std::filesystem::path dir_)
    : dir(std::move(dir_)),
      checkpoint(dir / "checkpoint.pt"),
      previous_checkpoint(dir / "checkpoint.prev.pt"),
      model(dir / "model.pt"),
      metrics_jsonl(dir / "metrics.jsonl"),
      metrics_csv(dir / "metrics.csv") {}

struct Trainer::State {
  detail::Model model;
  TrainerOptions options;
  c10::Device device = c10::kCPU;
  data::Split train, test, val;  // val: empty without a validation split
  data::Normalizer normalizer;
  std::optional<SeedFiles> files;  // none: nothing written or resumed
  dist::Group* group = nullptr;    // a group of 2 or more ranks
  bool writer = true;              // only rank 0 writes files

  State(detail::Model model_, const data::Dataset& data, TrainerOptions options_)
      : model(std::move(model_)),
        options(std::move(options_)),
        device(resolve_device(options.device ? options.device : options.spec.device)),  // "cuda" -> cuda:0
        train(data.train.to(device)),
        test(data.test.size() > 0 ? data.test.to(device) : data::Split{}),
        val(data.val.size() > 0 ? data.val.to(device) : data::Split{}),
        normalizer(data.mean, data.std) {
    if (!options.dir.empty()) files.emplace(options.dir);
    if (options.group && options.group->world_size() > 1) group = options.group.get();
    writer = group == nullptr || group->rank() == 0;
  }

  void message(const std::string& text) const {
    if (options.hooks.on_message) options.hooks.on_message(text);
  }
  bool stop_requested() const { return options.hooks.stop_requested && options.hooks.stop_requested(); }
  StepHook* step_hook() const { return options.hooks.step.get(); }
};

Trainer::Trainer(torch::nn::AnyModule module, const data::Dataset& data, TrainerOptions options) {
  validate(options.spec);
  TORCH_CHECK_VALUE(data.train.size() > 0, "Trainer: expected training images (got none)");
  TORCH_CHECK_VALUE(data.mean.size() == data.std.size() && !data.mean.empty(),
                    "Trainer: expected the data's per-channel mean and std (got ", data.mean.size(), " and ",
                    data.std.size(), " values)");
  state_ = std::make_unique<State>(detail::Model::of(std::move(module)), data, std::move(options));
}

Trainer::~Trainer() = default;

SeedResult Trainer::run() {
  State& s = *state_;
  const TrainSpec& spec = s.options.spec;
  const int64_t seed = s.options.seed;
  dist::Group* const group = s.group;
  const int64_t rank = group ? group->rank() : 0;
  const int64_t world = group ? group->world_size() : 1;
  if (s.files && s.writer) std::filesystem::create_directories(s.files->dir);

  detail::TrainingSetup setup(s.model, spec, s.device);
  torch::nn::Module& module = *setup.model().module;
  MultiTensorSGD& optimizer = setup.optimizer();
  const bool channels_last = setup.channels_last();
  const auto augment = data::AugmentOptions().enabled(s.options.augment);

  int64_t batch_size = spec.batch_size;  // per rank
  if (world > 1 && spec.batch_scope == BatchScope::kGlobal) {
    TORCH_CHECK_VALUE(batch_size % world == 0, "train.batch_size: expected a multiple of the ", world,
                      " ranks, as train.batch_scope is \"global\" (got ", batch_size,
                      "); change it, or set train.batch_scope \"rank\" for ", batch_size, " images per rank");
    batch_size /= world;
  }
  const data::EpochOrder order(s.train.size(), data::EpochOrderOptions(batch_size)
                                                   .seed(static_cast<uint64_t>(seed))
                                                   .drop_last(s.options.drop_last)
                                                   .rank(rank)
                                                   .world_size(world));
  const int64_t steps = order.batches_per_epoch();
  TORCH_CHECK_VALUE(steps > 0, "train: ", s.train.size(), " training images make no batch of ", batch_size,
                    " with drop_last; lower train.batch_size or keep the last batch");

  detail::Progress progress;
  SeedResult result;
  result.seed = seed;
  std::optional<detail::Restored> restored;
  if (s.files) restored = detail::load_checkpoint(*s.files, module, optimizer, s.step_hook());
  const bool has_checkpoint = restored.has_value();
  if (restored) progress = restored->progress;
  if (group) detail::agree_on_checkpoint(*group, s.device, has_checkpoint, progress, s.files ? s.files->dir : "");
  TORCH_CHECK_VALUE(!(has_checkpoint && progress.step > 0 && progress.world_size != world), "train: \"",
                    s.files->checkpoint.string(), "\" stopped in the middle of an epoch with ", progress.world_size,
                    " rank(s); expected as many to resume it (got ", world, ")");
  progress.world_size = world;
  if (has_checkpoint) {
    if (!restored->note.empty()) s.message(restored->note);
    if (progress.finished && std::filesystem::exists(s.files->model)) {
      result.metrics = progress.metrics;
      s.message("seed " + std::to_string(seed) + " already finished; skipping");
      return result;
    }
    s.message("resuming seed " + std::to_string(seed) + " from epoch " + std::to_string(progress.epoch + 1) +
              ", step " + std::to_string(progress.step));
  }
  const auto save = [&] {
    if (s.files && s.writer) {
      detail::save_checkpoint(*s.files, module, optimizer, progress, s.options.checkpoint_config, s.step_hook());
    }
  };

  std::unique_ptr<detail::GradientSync> sync;
  if (group) {
    group->broadcast_all(detail::state_tensors(module));  // rank 0's weights and buffers everywhere
    sync = std::make_unique<detail::GradientSync>(s.options.group, optimizer.gradients());
  }
  setup.make_runners(sync.get());  // after the checkpoint: a CUDA graph must capture the restored tensors
  detail::StepRunner& train_step = setup.train_step();

  StepContext context;
  context.steps = steps;
  context.device = s.device;
  context.channels_last = channels_last;
  context.amp = spec.amp;
  context.module = &module;
  context.forward = setup.model().forward;
  context.input = [&](const data::Split& split, const at::Tensor& indices) {
    at::Tensor x = data::make_batch(split.images, indices, s.normalizer, {}, {}, /*train=*/false);
    return channels_last ? to_channels_last(x) : x;
  };

  const auto session_start = Clock::now();
  int64_t session_steps = 0;
  module.train();
  for (int64_t epoch = progress.epoch; epoch < spec.epochs; ++epoch) {
    // The epoch's indices and crop/flip parameters go to the device in one copy: a step uploads nothing.
    const data::EpochBatches batches(order, epoch, augment, s.device);
    // Device-side sums: one host read per logging interval, none inside a step.
    train_step.sums().reset(progress.loss_sum, progress.correct);
    int64_t seen = progress.seen;
    const auto epoch_start = Clock::now();
    const double carried_seconds = progress.step > 0 ? progress.train_seconds : 0.0;
    context.epoch = epoch;
    const double lr_start = lr_at_step(spec, steps, epoch * steps);  // at the epoch's first step

    // Loss, correct and images of the epoch so far, over all ranks (a collective with a group).
    auto totals = [&] { return detail::global_totals(train_step.sums(), seen, group); };
    auto read_progress = [&](int64_t step_done, const detail::Totals& t) {
      StepProgress sp;
      sp.epoch = epoch + 1;
      sp.epochs = spec.epochs;
      sp.step = step_done;
      sp.steps = steps;
      sp.lr = optimizer.lr();
      sp.loss = t.loss_sum / static_cast<double>(std::max<int64_t>(t.images, 1));
      sp.accuracy = 100.0 * static_cast<double>(t.correct) / static_cast<double>(std::max<int64_t>(t.images, 1));
      const double elapsed = seconds_since(session_start);
      sp.images_per_s = static_cast<double>(t.images) / std::max(carried_seconds + seconds_since(epoch_start), 1e-9);
      const int64_t remaining = (spec.epochs - epoch) * steps - step_done;
      sp.eta_seconds = session_steps > 0 ? elapsed / static_cast<double>(session_steps) * static_cast<double>(remaining) : 0.0;
      return sp;
    };

    for (int64_t step = progress.step; step < steps; ++step) {
      at::Tensor x = batches.make(s.train.images, s.normalizer, step);
      if (channels_last) x = to_channels_last(x);
      if (sync) sync->set_stop_flag(s.stop_requested());
      // The schedule counts optimizer steps (schedule.h); a CUDA graph re-captures when the lr changes.
      const double lr = lr_at_step(spec, steps, epoch * steps + step);
      if (lr != optimizer.lr()) optimizer.set_lr(lr);
      context.lr = lr;
      train_step.run(x, s.train.labels.index_select(0, batches.indices(step)));
      seen += x.size(0);
      ++session_steps;
      if (StepHook* hook = s.step_hook()) {
        context.step = step;
        hook->after_step(context);
      }

      const bool last = step + 1 == steps;
      const bool log_point = (step + 1) % std::max<int64_t>(spec.log_every, 1) == 0;
      // Ranks stop together, on the flags their last gradient all-reduce carried (read every step
      // on CPU; on CUDA only where a log read syncs the device anyway).
      const bool stop = sync ? (s.device.is_cpu() || log_point || last) && sync->any_stop() : s.stop_requested();
      detail::Totals epoch_totals;
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
        if (s.options.hooks.on_progress) s.options.hooks.on_progress(sp);
      }
      if (stop && !last) {
        progress.epoch = epoch;
        progress.step = step + 1;
        progress.loss_sum = epoch_totals.loss_sum;
        progress.correct = epoch_totals.correct;
        progress.seen = epoch_totals.images;
        progress.train_seconds = carried_seconds + seconds_since(epoch_start);
        if (group) group->average_all(module.buffers());
        save();
        result.status = SeedStatus::kStopped;
        result.message = "stopped in epoch " + std::to_string(epoch + 1) + " after step " + std::to_string(step + 1);
        result.metrics = progress.metrics;
        return result;
      }
    }

    const double train_seconds = carried_seconds + seconds_since(epoch_start);
    const detail::Totals epoch_totals = totals();
    EpochMetrics m;
    m.epoch = epoch + 1;
    m.lr = optimizer.lr();  // in effect at the epoch's end
    m.lr_start = lr_start;
    m.train_loss = epoch_totals.loss_sum / static_cast<double>(epoch_totals.images);
    m.train_acc = 100.0 * static_cast<double>(epoch_totals.correct) / static_cast<double>(epoch_totals.images);
    m.images_per_s = static_cast<double>(epoch_totals.images) / std::max(train_seconds, 1e-9);
    if (group) {
      group->average_all(module.buffers());  // BN running statistics: per rank while training
      detail::check_replicas(*group, module, epoch + 1);
      s.message("epoch " + std::to_string(epoch + 1) + ": weights and buffers bitwise identical on all " +
                std::to_string(world) + " ranks");
    }
    const auto eval_start = Clock::now();
    // A search hands over no test split: it must never read it. train.test_every skips passes in between.
    const bool test_epoch = epoch + 1 == spec.epochs || (spec.test_every > 0 && (epoch + 1) % spec.test_every == 0);
    m.has_test = s.test.size() > 0 && test_epoch;
    if (m.has_test) {
      const EvalResult eval = detail::evaluate_with(setup.test_step(), module, s.test, s.normalizer,
                                                    spec.eval_batch_size, channels_last, group);
      m.test_loss = eval.loss;
      m.test_acc = eval.accuracy;
    }
    if (s.val.size() > 0) {
      const EvalResult val = detail::evaluate_with(setup.test_step(), module, s.val, s.normalizer,
                                                   spec.eval_batch_size, channels_last, group);
      m.has_val = true;
      m.val_loss = val.loss;
      m.val_acc = val.accuracy;
    }
    m.seconds = train_seconds + seconds_since(eval_start);
    progress.metrics.push_back(m);
    progress.epoch = epoch + 1;
    progress.step = 0;
    progress.loss_sum = 0;
    progress.correct = 0;
    progress.seen = 0;
    progress.train_seconds = 0;
    progress.finished = progress.epoch == spec.epochs;
    if (s.files && s.writer) detail::write_metrics_files(*s.files, progress.metrics);
    if (s.options.hooks.on_epoch) s.options.hooks.on_epoch(m);
    if (StepHook* hook = s.step_hook()) hook->after_epoch(progress.epoch);

    const bool stop = sync ? sync->any_stop() : s.stop_requested();
    if (progress.finished && s.files && s.writer) detail::save_model(*s.files, module);
    if (progress.finished || stop || progress.epoch % std::max<int64_t>(spec.checkpoint_every, 1) == 0) save();
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

}  // namespace propnet::train
