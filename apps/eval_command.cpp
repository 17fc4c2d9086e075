// `propnet eval`: test loss and accuracy of a saved model (a model.pt or checkpoint.pt, which carry their config).
#include <iostream>

#include <cxxopts.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <propnet/choices.h>
#include <propnet/config.h>
#include <propnet/data/dataset.h>
#include <propnet/data/transforms.h>
#include <propnet/runtime.h>
#include <propnet/train/device.h>
#include <propnet/train/trainer.h>

#include "cli.h"
#include "experiment_setup.h"

namespace propnet::cli {
namespace {

// The model file `given` names: itself, or the model.pt (else checkpoint.pt) of a seed folder.
std::filesystem::path model_file(const std::filesystem::path& given) {
  if (!std::filesystem::exists(given)) throw UsageError("--checkpoint \"" + given.string() + "\": No such file or directory");
  if (!std::filesystem::is_directory(given)) return given;
  for (const char* name : {"model.pt", "checkpoint.pt"}) {
    if (std::filesystem::exists(given / name)) return given / name;
  }
  throw UsageError("--checkpoint \"" + given.string() + "\" is a folder without model.pt or checkpoint.pt; give a seed " +
                   "folder (runs/NAME/seed-0) or a model file");
}

// The config that built the model: the one the file carries (model files and checkpoints of this propnet), else
// the run folder's config.json above seed-k/ (a model.pt saved before model files carried it).
ExperimentConfig config_for(const std::filesystem::path& weights) {
  if (const auto inside = train::read_saved_config(weights)) return parse_config(*inside, weights.string());
  const auto run_config = weights.parent_path().parent_path() / "config.json";
  if (!std::filesystem::exists(run_config)) {
    throw UsageError("\"" + weights.string() + "\" carries no config (saved before model files did), and " +
                     run_config.string() + " is not there; evaluate it inside its run folder (runs/NAME/seed-k/)");
  }
  return load_config(run_config.string());
}

// --dataset, --data-dir and --test-subset: score the model on other data than it was trained with.
void apply_data_flags(ExperimentConfig& config, const cxxopts::ParseResult& flags) {
  config.data.subset = 0;  // eval reads no training images
  if (flags.count("dataset")) {
    const std::string name = flags["dataset"].as<std::string>();
    const ExperimentConfig run = config;
    apply_flag(config, "dataset", name);  // the config's spelling of data sets and its message
    config.network = run.network;         // the saved network: another data set must fit it, not change it
    if (config.data.dataset != run.data.dataset) {
      config.data.dir.clear();  // the run's folder holds the run's data set
      config.data.coarse_labels = false;
    }
    const int64_t classes = data::classes_of(config.data.dataset, config.data.coarse_labels);
    const int64_t channels = data::channels_of(config.data.dataset);
    if (classes != config.network.num_classes || channels != config.network.in_channels) {
      throw UsageError(fmt::format("--dataset {}: the model takes {}-channel images of {} classes, {} has {}-channel "
                                   "images of {} classes", name, config.network.in_channels, config.network.num_classes,
                                   name, channels, classes));
    }
  }
  // Through the config's flags, so that their checks and messages are train's.
  if (flags.count("data-dir")) apply_flag(config, "data-dir", flags["data-dir"].as<std::string>());
  if (flags.count("test-subset")) apply_flag(config, "test-subset", std::to_string(flags["test-subset"].as<int64_t>()));
}

}  // namespace

int eval_command(int argc, char** argv) {
  return run_reporting_errors("eval", [&] {
    cxxopts::Options options("propnet eval", "Test loss and accuracy of a model saved by propnet train.");
    options.add_options()
        ("checkpoint", "a model.pt or checkpoint.pt (anywhere: it carries its config), or a seed folder runs/NAME/seed-k",
         cxxopts::value<std::string>())
        ("dataset", "score on this data set instead of the run's (same channels and classes)", cxxopts::value<std::string>())
        ("data-dir", "data folder (default: the run's, or the data set's default)", cxxopts::value<std::string>())
        ("test-subset", "score the first N test images (0: all; default: the run's)", cxxopts::value<int64_t>())
        ("device", "auto, cpu, cuda or cuda:N (default auto)", cxxopts::value<std::string>()->default_value("auto"))
        ("batch-size", "evaluation batch size", cxxopts::value<int64_t>()->default_value("500"))
        ("threads", "CPU threads (default: every core)", cxxopts::value<int64_t>()->default_value("0"))
        ("json", "print one JSON object")
        ("h,help", "show this help");
    const auto flags = parse_flags(options, argc, argv);
    if (flags.count("help")) {
      std::cout << options.help() << "\nExamples:\n  propnet eval --checkpoint runs/preresnet-20-paired-fashion-mnist/seed-0/model.pt\n"
                   "  propnet eval --checkpoint runs/preresnet-20-paired-fashion-mnist/seed-0 --test-subset 1000 --json\n";
      return kExitOk;
    }
    if (!flags.count("checkpoint")) throw UsageError("--checkpoint is required");
    const std::filesystem::path weights = model_file(flags["checkpoint"].as<std::string>());
    ExperimentConfig config = config_for(weights);
    apply_data_flags(config, flags);
    const c10::Device device = train::resolve_device(flags["device"].as<std::string>());
    configure_threads(flags["threads"].as<int64_t>());
    const data::Dataset dataset = load_experiment_data(config, device);
    const data::Split test = dataset.test.head(config.data.test_subset);
    models::Network net(config.network);
    train::load_weights(net, weights);
    net->to(device);
    const auto result = train::evaluate(net, test, data::Normalizer(dataset.mean, dataset.std),
                                        flags["batch-size"].as<int64_t>());
    if (flags.count("json")) {
      std::cout << nlohmann::json{{"checkpoint", weights.string()}, {"dataset", to_string(config.data.dataset)},
                                  {"images", result.images},        {"test_loss", result.loss},
                                  {"test_acc", result.accuracy}}
                       .dump()
                << "\n";
    } else {
      std::cout << fmt::format("{}: {} test images, loss {:.4f}, accuracy {:.2f}%\n", weights.string(), result.images,
                               result.loss, result.accuracy);
    }
    return kExitOk;
  });
}

}  // namespace propnet::cli
