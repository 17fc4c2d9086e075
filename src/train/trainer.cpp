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
SeedFiles::SeedFiles(std::filesystem::path dir_)
    : dir(std::move(dir_)),
      checkpoint(dir / "checkpoint.pt"),
      previous_checkpoint(dir / "checkpoint.prev.pt"),
      model(dir / "model.pt"),
      metrics_jsonl(dir / "metrics.jsonl"),
      metrics_csv(dir / "metrics.csv") {}

bool SeedFiles::finished() const { return std::filesystem::exists(model); }

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

namespace detail {

// One call of Trainer::run, in its phases: set up and resume, the epochs (each its steps, then its
// test and validation passes and checkpoint), and one exit, `result()`. A phase that ends the run
// (a finished seed found on resume, a stop, a NaN loss) sets `result_.status` and returns false.
class TrainerRun {
 public:
  explicit TrainerRun(Trainer::State& s)
      : s_(s),
        spec_(s.options.spec),
        group_(s.group),
        world_(group_ ? group_->world_size() : 1),
        setup_(s.model, spec_, s.device),
        module_(*setup_.model().module),
        optimizer_(setup_.optimizer()),
        channels_last_(setup_.channels_last()),
        order_(s.train.size(), data::EpochOrderOptions(batch_size())
                                   .seed(static_cast<uint64_t>(s.options.seed))
                                   .drop_last(s.options.drop_last)
                                   .rank(group_ ? group_->rank() : 0)
                                   .world_size(world_)),
        steps_(order_.batches_per_epoch()) {
    TORCH_CHECK_VALUE(steps_ > 0, "train: ", s.train.size(), " training images make no batch of ", batch_size(),
                      " with drop_last; lower train.batch_size or keep the last batch");
    result_.seed = s.options.seed;
  }

  // Restores the checkpoint, if any, and readies the step runners; false when the seed is already done.
  bool start() {
    if (s_.files && s_.writer) std::filesystem::create_directories(s_.files->dir);
    std::optional<detail::Restored> restored;
    if (s_.files) restored = detail::load_checkpoint(*s_.files, module_, optimizer_, s_.step_hook());
    const bool has_checkpoint = restored.has_value();
    if (restored) progress_ = restored->progress;
    if (group_) detail::agree_on_checkpoint(*group_, s_.device, has_checkpoint, progress_, s_.files ? s_.files->dir : "");
    TORCH_CHECK_VALUE(!(has_checkpoint && progress_.step > 0 && progress_.world_size != world_), "train: \"",
                      s_.files->checkpoint.string(), "\" stopped in the middle of an epoch with ", progress_.world_size,
                      " rank(s); expected as many to resume it (got ", world_, ")");
    progress_.world_size = world_;
    const std::string seed = std::to_string(s_.options.seed);
    if (has_checkpoint) {
      if (!restored->note.empty()) s_.message(restored->note);
      if (s_.files->finished()) {
        s_.message("seed " + seed + " already finished; skipping");
        return false;
      }
      s_.message("resuming seed " + seed + " from epoch " + std::to_string(progress_.epoch + 1) + ", step " +
                 std::to_string(progress_.step));
    }
    if (group_) {
      group_->broadcast_all(detail::state_tensors(module_));  // rank 0's weights and buffers everywhere
      sync_ = std::make_unique<detail::GradientSync>(s_.options.group, optimizer_.gradients());
    }
    setup_.make_runners(sync_.get());  // after the checkpoint: a CUDA graph must capture the restored tensors
    make_context();
    module_.train();
    return true;
  }

  bool epochs_left() const { return progress_.epoch < spec_.epochs; }

  // Trains, tests and checkpoints the next epoch; false when the run ends in it (stop or NaN).
  bool epoch() {
    const int64_t epoch = progress_.epoch;
    const data::EpochBatches batches(order_, epoch, data::AugmentOptions().enabled(s_.options.augment), s_.device);
    setup_.train_step().sums().reset(progress_.loss_sum, progress_.correct);  // device sums: one read per log point
    seen_ = progress_.seen;
    epoch_start_ = Clock::now();
    carried_seconds_ = progress_.step > 0 ? progress_.train_seconds : 0.0;
    context_.epoch = epoch;
    for (int64_t step = progress_.step; step < steps_; ++step) {
      if (!train_step(batches, epoch, step)) return false;
    }
    return end_epoch(epoch);
  }

  SeedResult result() {
    result_.metrics = progress_.metrics;
    return result_;
  }

 private:
  using Clock = std::chrono::steady_clock;
  static double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
  }

  int64_t batch_size() const {  // per rank
    int64_t size = spec_.batch_size;
    if (world_ > 1 && spec_.batch_scope == BatchScope::kGlobal) {
      TORCH_CHECK_VALUE(size % world_ == 0, "train.batch_size: expected a multiple of the ", world_,
                        " ranks, as train.batch_scope is \"global\" (got ", size,
                        "); change it, or set train.batch_scope \"rank\" for ", size, " images per rank");
      size /= world_;
    }
    return size;
  }

  void make_context() {
    context_.steps = steps_;
    context_.device = s_.device;
    context_.channels_last = channels_last_;
    context_.amp = spec_.amp;
    context_.module = &module_;
    context_.forward = setup_.model().forward;
    context_.input = [this](const data::Split& split, const at::Tensor& indices) {
      at::Tensor x = data::make_batch(split.images, indices, s_.normalizer, {}, {}, /*train=*/false);
      return channels_last_ ? to_channels_last(x) : x;
    };
  }

  // Loss, correct and images of the epoch so far, over all ranks (a collective with a group).
  detail::Totals totals() { return detail::global_totals(setup_.train_step().sums(), seen_, group_); }

  StepProgress reading(int64_t epoch, int64_t step_done, const detail::Totals& t) const {
    StepProgress sp;
    sp.epoch = epoch + 1;
    sp.epochs = spec_.epochs;
    sp.step = step_done;
    sp.steps = steps_;
    sp.lr = optimizer_.lr();
    const double images = static_cast<double>(std::max<int64_t>(t.images, 1));
    sp.loss = t.loss_sum / images;
    sp.accuracy = 100.0 * static_cast<double>(t.correct) / images;
    sp.images_per_s = static_cast<double>(t.images) / std::max(carried_seconds_ + seconds_since(epoch_start_), 1e-9);
    const int64_t remaining = (spec_.epochs - epoch) * steps_ - step_done;
    sp.eta_seconds = session_steps_ > 0 ? seconds_since(session_start_) / static_cast<double>(session_steps_) *
                                              static_cast<double>(remaining)
                                        : 0.0;
    return sp;
  }

  // One optimizer step and what follows it: the hook, a progress reading, a stop; false when the run ends.
  bool train_step(const data::EpochBatches& batches, int64_t epoch, int64_t step) {
    at::Tensor x = batches.make(s_.train.images, s_.normalizer, step);
    if (channels_last_) x = to_channels_last(x);
    if (sync_) sync_->set_stop_flag(s_.stop_requested());
    // The schedule counts optimizer steps (schedule.h); a CUDA graph re-captures when the lr changes.
    const double lr = lr_at_step(spec_, steps_, epoch * steps_ + step);
    if (lr != optimizer_.lr()) optimizer_.set_lr(lr);
    context_.lr = lr;
    setup_.train_step().run(x, s_.train.labels.index_select(0, batches.indices(step)));
    seen_ += x.size(0);
    ++session_steps_;
    if (StepHook* hook = s_.step_hook()) {
      context_.step = step;
      hook->after_step(context_);
    }
    const bool last = step + 1 == steps_;
    const bool log_point = (step + 1) % std::max<int64_t>(spec_.log_every, 1) == 0;
    // Ranks stop together, on the flags their last gradient all-reduce carried (read every step on
    // CPU; on CUDA only where a log read syncs the device anyway).
    const bool stop = sync_ ? (s_.device.is_cpu() || log_point || last) && sync_->any_stop() : s_.stop_requested();
    if (!(log_point || last || stop)) return true;
    const detail::Totals t = totals();
    const StepProgress sp = reading(epoch, step + 1, t);
    if (!std::isfinite(sp.loss)) {
      result_.status = SeedStatus::kFailed;
      result_.message = "training loss became " + std::to_string(sp.loss) + " in epoch " + std::to_string(epoch + 1) +
                        " (step " + std::to_string(step + 1) + "); kept the last good checkpoint";
      return false;
    }
    if (s_.options.hooks.on_progress) s_.options.hooks.on_progress(sp);
    if (!stop || last) return true;
    progress_.epoch = epoch;
    progress_.step = step + 1;
    progress_.loss_sum = t.loss_sum;
    progress_.correct = t.correct;
    progress_.seen = t.images;
    progress_.train_seconds = carried_seconds_ + seconds_since(epoch_start_);
    if (group_) group_->average_all(module_.buffers());
    save();
    result_.status = SeedStatus::kStopped;
    result_.message = "stopped in epoch " + std::to_string(epoch + 1) + " after step " + std::to_string(step + 1);
    return false;
  }

  // The epoch's metrics, its test and validation passes, files, hooks and checkpoint; false on a stop.
  bool end_epoch(int64_t epoch) {
    const double train_seconds = carried_seconds_ + seconds_since(epoch_start_);
    const detail::Totals t = totals();
    EpochMetrics m;
    m.epoch = epoch + 1;
    m.lr = optimizer_.lr();  // in effect at the epoch's end
    m.lr_start = lr_at_step(spec_, steps_, epoch * steps_);
    m.train_loss = t.loss_sum / static_cast<double>(t.images);
    m.train_acc = 100.0 * static_cast<double>(t.correct) / static_cast<double>(t.images);
    m.images_per_s = static_cast<double>(t.images) / std::max(train_seconds, 1e-9);
    if (group_) {
      group_->average_all(module_.buffers());  // BN running statistics: per rank while training
      detail::check_replicas(*group_, module_, epoch + 1);
      s_.message("epoch " + std::to_string(epoch + 1) + ": weights and buffers bitwise identical on all " +
                 std::to_string(world_) + " ranks");
    }
    const auto eval_start = Clock::now();
    evaluate(epoch, m);
    m.seconds = train_seconds + seconds_since(eval_start);
    progress_.metrics.push_back(m);
    progress_.epoch = epoch + 1;
    progress_.step = 0;
    progress_.loss_sum = 0;
    progress_.correct = 0;
    progress_.seen = 0;
    progress_.train_seconds = 0;
    progress_.finished = progress_.epoch == spec_.epochs;
    if (s_.files && s_.writer) detail::write_metrics_files(*s_.files, progress_.metrics);
    if (s_.options.hooks.on_epoch) s_.options.hooks.on_epoch(m);
    if (StepHook* hook = s_.step_hook()) hook->after_epoch(progress_.epoch);

    const bool stop = sync_ ? sync_->any_stop() : s_.stop_requested();
    if (progress_.finished || stop || progress_.epoch % std::max<int64_t>(spec_.checkpoint_every, 1) == 0) save();
    if (progress_.finished && s_.files && s_.writer) detail::save_model(*s_.files, module_, s_.options.checkpoint_config);  // last: marks it done
    if (stop && !progress_.finished) {
      result_.status = SeedStatus::kStopped;
      result_.message = "stopped after epoch " + std::to_string(progress_.epoch);
      return false;
    }
    return true;
  }

  // A search hands over no test split: it must never read it. train.test_every skips passes in between.
  void evaluate(int64_t epoch, EpochMetrics& m) {
    const bool test_epoch = epoch + 1 == spec_.epochs || (spec_.test_every > 0 && (epoch + 1) % spec_.test_every == 0);
    m.has_test = s_.test.size() > 0 && test_epoch;
    if (m.has_test) {
      const EvalResult eval = detail::evaluate_with(setup_.test_step(), module_, s_.test, s_.normalizer,
                                                    spec_.eval_batch_size, channels_last_, group_);
      m.test_loss = eval.loss;
      m.test_acc = eval.accuracy;
    }
    if (s_.val.size() > 0) {
      const EvalResult val = detail::evaluate_with(setup_.test_step(), module_, s_.val, s_.normalizer,
                                                   spec_.eval_batch_size, channels_last_, group_);
      m.has_val = true;
      m.val_loss = val.loss;
      m.val_acc = val.accuracy;
    }
  }

  void save() {
    if (s_.files && s_.writer) {
      detail::save_checkpoint(*s_.files, module_, optimizer_, progress_, s_.options.checkpoint_config, s_.step_hook());
    }
  }

  Trainer::State& s_;
  const TrainSpec& spec_;
  dist::Group* const group_;
  const int64_t world_;
  detail::TrainingSetup setup_;
  torch::nn::Module& module_;
  MultiTensorSGD& optimizer_;
  const bool channels_last_;
  const data::EpochOrder order_;
  const int64_t steps_;
  detail::Progress progress_;
  SeedResult result_;
  std::unique_ptr<detail::GradientSync> sync_;
  StepContext context_;
  const Clock::time_point session_start_ = Clock::now();
  int64_t session_steps_ = 0;
  int64_t seen_ = 0;                  // this rank's images of the epoch so far
  Clock::time_point epoch_start_;
  double carried_seconds_ = 0;        // the stopped part of a resumed epoch
};

}  // namespace detail

SeedResult Trainer::run() {
  detail::TrainerRun run(*state_);
  if (run.start()) {
    while (run.epochs_left() && run.epoch()) {
    }
  }
  return run.result();
}

}  // namespace propnet::train
