#include "checkpoint.h"

#include <mutex>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/Generator.h>
#include <c10/util/Exception.h>
#include <torch/nn/module.h>
#include <torch/serialize/archive.h>

#include <propnet/atomic_file.h>

#include "metrics_io.h"

namespace propnet::train::detail {
namespace {

constexpr int64_t kCheckpointFormat = 2;  // 2: MultiTensorSGD's momentum buffers; "hook" is optional

// Why a file is not a readable archive, in words a user can act on.
std::string damage_of(const std::filesystem::path& path) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  if (error) return error.message();
  return size == 0 ? "an empty file" : "truncated, or not a PyTorch archive";
}

// Opens an existing `path` with every tensor mapped to `device` (not to the device it was saved
// from: a checkpoint written on cuda:0 resumes on cuda:1, on rank 1, or in a CPU-only build); false
// when LibTorch cannot read it (truncated, empty, another format).
bool try_open(torch::serialize::InputArchive& archive, const std::filesystem::path& path, const c10::Device& device) {
  try {
    archive.load_from(path.string(), device);
    return true;
  } catch (const c10::Error&) {
    return false;
  }
}

// Opens `path`; a file LibTorch cannot read gives one line naming it, why, and `advice`.
void open_archive(torch::serialize::InputArchive& archive, const std::filesystem::path& path, const c10::Device& device,
                  const std::string& what, const std::string& advice) {
  TORCH_CHECK(std::filesystem::exists(path), "cannot open \"", path.string(), "\": No such file or directory");
  TORCH_CHECK(try_open(archive, path, device), "\"", path.string(), "\" is not a readable ", what, " (", damage_of(path), "); ",
              advice);
}

c10::IValue read_value(torch::serialize::InputArchive& archive, const std::string& key, const std::filesystem::path& path) {
  c10::IValue value;
  TORCH_CHECK(archive.try_read(key, value), "\"", path.string(), "\" is not a propnet checkpoint (no \"", key,
              "\" entry); move it away to start this seed afresh");
  return value;
}

constexpr const char* kCheckpointAdvice = "move it away to start this seed afresh";

// Everything but the tensors, which load_into puts in place.
Progress read_progress(torch::serialize::InputArchive& archive, const std::filesystem::path& path) {
  TORCH_CHECK(read_value(archive, "format", path).toInt() == kCheckpointFormat, "train: \"", path.string(),
              "\" was written by another propnet version; move it away to start this seed afresh");
  Progress p;
  p.epoch = read_value(archive, "epoch", path).toInt();
  p.step = read_value(archive, "step", path).toInt();
  p.loss_sum = read_value(archive, "loss_sum", path).toDouble();
  p.correct = read_value(archive, "correct", path).toInt();
  p.seen = read_value(archive, "seen", path).toInt();
  p.train_seconds = read_value(archive, "train_seconds", path).toDouble();
  p.finished = read_value(archive, "finished", path).toBool();
  c10::IValue world;
  p.world_size = archive.try_read("world_size", world) ? world.toInt() : 1;
  p.metrics = metrics_from_json(read_value(archive, "metrics", path).toStringRef(), path.string());
  return p;
}

Progress load_into(torch::serialize::InputArchive& archive, const std::filesystem::path& path,
                   torch::nn::Module& module, MultiTensorSGD& optimizer, StepHook* hook) {
  Progress progress = read_progress(archive, path);
  torch::serialize::InputArchive model, optim, hook_state;
  TORCH_CHECK(archive.try_read("model", model) && archive.try_read("optimizer", optim), "\"", path.string(),
              "\" is not a propnet checkpoint (no weights); ", kCheckpointAdvice);
  try {
    module.load(model);
    optimizer.load(optim);
  } catch (const c10::Error& e) {
    TORCH_CHECK(false, "\"", path.string(), "\" holds another network than this run builds (",
                e.what_without_backtrace(), "); move it away to start this seed afresh");
  }
  if (hook && archive.try_read("hook", hook_state)) hook->load(hook_state);
  at::Tensor rng;
  archive.read("rng_cpu", rng, /*is_buffer=*/true);
  rng = rng.cpu();  // mapped to the training device with the rest
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(rng);
  return progress;
}

// Where `module` lives: its tensors' device (the CPU for a module without any).
c10::Device device_of(const torch::nn::Module& module) {
  for (const auto& p : module.parameters()) return p.device();
  for (const auto& b : module.buffers()) return b.device();
  return c10::kCPU;
}

}  // namespace

void save_checkpoint(const SeedFiles& files, torch::nn::Module& module, const MultiTensorSGD& optimizer,
                     const Progress& p, const std::string& config, const StepHook* hook) {
  write_atomically(
      files.checkpoint,
      [&](const std::filesystem::path& temp) {
        torch::serialize::OutputArchive archive;
        torch::serialize::OutputArchive model, optim;
        module.save(model);
        optimizer.save(optim);
        archive.write("model", model);
        archive.write("optimizer", optim);
        if (hook) {
          torch::serialize::OutputArchive hook_state;
          hook->save(hook_state);
          archive.write("hook", hook_state);
        }
        archive.write("format", c10::IValue(kCheckpointFormat));
        archive.write("epoch", c10::IValue(p.epoch));
        archive.write("step", c10::IValue(p.step));
        archive.write("loss_sum", c10::IValue(p.loss_sum));
        archive.write("correct", c10::IValue(p.correct));
        archive.write("seen", c10::IValue(p.seen));
        archive.write("train_seconds", c10::IValue(p.train_seconds));
        archive.write("finished", c10::IValue(p.finished));
        archive.write("world_size", c10::IValue(p.world_size));
        archive.write("metrics", c10::IValue(metrics_to_json(p.metrics)));
        archive.write("config", c10::IValue(config));
        archive.write("rng_cpu", at::detail::getDefaultCPUGenerator().get_state(), /*is_buffer=*/true);
        archive.save_to(temp.string());
      },
      files.previous_checkpoint);
}

std::optional<Restored> load_checkpoint(const SeedFiles& files, torch::nn::Module& module, MultiTensorSGD& optimizer,
                                        StepHook* hook) {
  const c10::Device device = device_of(module);
  const bool latest = std::filesystem::exists(files.checkpoint);
  const bool previous = std::filesystem::exists(files.previous_checkpoint);
  if (!latest && !previous) return std::nullopt;
  std::string why = "is missing (a write was interrupted)";
  if (latest) {
    torch::serialize::InputArchive archive;
    if (try_open(archive, files.checkpoint, device)) {
      return Restored{load_into(archive, files.checkpoint, module, optimizer, hook), ""};
    }
    if (!previous) open_archive(archive, files.checkpoint, device, "checkpoint", kCheckpointAdvice);  // throws the message
    why = "is not readable (" + damage_of(files.checkpoint) + ")";
  }
  torch::serialize::InputArchive archive;
  TORCH_CHECK(try_open(archive, files.previous_checkpoint, device), "\"", files.checkpoint.string(), "\" ", why, " and \"",
              files.previous_checkpoint.string(), "\" is not a readable checkpoint either (", damage_of(files.previous_checkpoint),
              "); move them away to start this seed afresh");
  Restored restored{load_into(archive, files.previous_checkpoint, module, optimizer, hook), ""};
  restored.note = files.checkpoint.filename().string() + " " + why + "; resuming from " +
                  files.previous_checkpoint.filename().string() + ", the checkpoint before it";
  return restored;
}

void save_model(const SeedFiles& files, torch::nn::Module& module, const std::string& config) {
  write_atomically(files.model, [&](const std::filesystem::path& temp) {
    torch::serialize::OutputArchive archive;
    module.save(archive);
    if (!config.empty()) archive.write("config", c10::IValue(config));  // Module::load reads only its own keys
    archive.save_to(temp.string());
  });
}

}  // namespace propnet::train::detail

namespace propnet::train {
namespace {

// The readable one of a checkpoint and its previous copy, for reading metadata: opened onto the
// CPU, wherever it was written.
std::filesystem::path readable_checkpoint(const std::filesystem::path& checkpoint, torch::serialize::InputArchive& archive) {
  const auto previous = SeedFiles(checkpoint.parent_path()).previous_checkpoint;
  const bool has_previous = checkpoint.filename() == "checkpoint.pt" && std::filesystem::exists(previous);
  if (std::filesystem::exists(checkpoint) && detail::try_open(archive, checkpoint, c10::kCPU)) return checkpoint;
  if (!has_previous) detail::open_archive(archive, checkpoint, c10::kCPU, "checkpoint", detail::kCheckpointAdvice);  // throws
  detail::open_archive(archive, previous, c10::kCPU, "checkpoint", detail::kCheckpointAdvice);
  return previous;
}

// Opens a model.pt or checkpoint.pt to read weights or its config from; throws naming the file.
void open_model_file(torch::serialize::InputArchive& archive, const std::filesystem::path& path, const c10::Device& device) {
  const bool checkpoint = path.filename().string().rfind("checkpoint", 0) == 0;
  detail::open_archive(archive, path, device, checkpoint ? "checkpoint" : "model file",
                       checkpoint ? "evaluate the model.pt or checkpoint.prev.pt beside it instead"
                                  : "retrain the seed, or evaluate its checkpoint.pt");
}

}  // namespace

std::vector<EpochMetrics> read_checkpoint_metrics(const std::filesystem::path& checkpoint) {
  torch::serialize::InputArchive archive;
  const auto path = readable_checkpoint(checkpoint, archive);
  return detail::metrics_from_json(detail::read_value(archive, "metrics", path).toStringRef(), path.string());
}

std::optional<std::string> read_saved_config(const std::filesystem::path& path) {
  torch::serialize::InputArchive archive;
  open_model_file(archive, path, c10::kCPU);
  c10::IValue config;
  if (!archive.try_read("config", config) || !config.isString()) return std::nullopt;
  return config.toStringRef();
}

void load_weights(torch::nn::Module& module, const std::filesystem::path& path) {
  torch::serialize::InputArchive archive;
  open_model_file(archive, path, detail::device_of(module));
  torch::serialize::InputArchive model;
  try {
    if (archive.try_read("model", model)) {
      module.load(model);  // a checkpoint.pt
    } else {
      module.load(archive);  // a model.pt
    }
  } catch (const c10::Error& e) {
    TORCH_CHECK(false, "\"", path.string(), "\" holds another network than its run's config builds (",
                e.what_without_backtrace(), ")");
  }
}

void load_weights(models::Network& net, const std::filesystem::path& path) { load_weights(*net, path); }

}  // namespace propnet::train
