// `propnet eval`: test loss and accuracy of a saved model (model.pt or checkpoint.pt of a run).
#include <fstream>
#include <iostream>
#include <sstream>

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

namespace propnet::cli {
namespace {

// The run's config: inside a checkpoint.pt, or the config.json of the run folder above seed-k/.
ExperimentConfig config_for(const std::filesystem::path& weights) {
  std::string text;
  std::string source;
  const auto checkpoint = weights.parent_path() / "checkpoint.pt";
  const auto run_config = weights.parent_path().parent_path() / "config.json";
  if (std::filesystem::exists(run_config)) {
    std::ifstream in(run_config);
    std::stringstream content;
    content << in.rdbuf();
    text = content.str();
    source = run_config.string();
  } else if (std::filesystem::exists(checkpoint)) {
    text = train::read_checkpoint_config(checkpoint);
    source = checkpoint.string();
  } else {
    throw UsageError("cannot find the run's config for \"" + weights.string() + "\" (looked for " + run_config.string() +
                     " and " + checkpoint.string() + ")");
  }
  return parse_config(text, source);
}

}  // namespace

int eval_command(int argc, char** argv) {
  return run_reporting_errors("eval", [&] {
    cxxopts::Options options("propnet eval", "Test loss and accuracy of a model saved by propnet train.");
    options.add_options()
        ("checkpoint", "model.pt or checkpoint.pt inside a run folder's seed-k/", cxxopts::value<std::string>())
        ("data-dir", "data folder (default: the run's)", cxxopts::value<std::string>())
        ("device", "auto, cpu, cuda or cuda:N (default auto)", cxxopts::value<std::string>()->default_value("auto"))
        ("batch-size", "evaluation batch size", cxxopts::value<int64_t>()->default_value("500"))
        ("threads", "CPU threads (default: every core)", cxxopts::value<int64_t>()->default_value("0"))
        ("json", "print one JSON object")
        ("h,help", "show this help");
    const auto flags = parse_flags(options, argc, argv);
    if (flags.count("help")) {
      std::cout << options.help() << "\nExample:\n  propnet eval --checkpoint runs/preresnet-20-paired-fashion-mnist/seed-0/model.pt\n";
      return kExitOk;
    }
    if (!flags.count("checkpoint")) throw UsageError("--checkpoint is required");
    const std::filesystem::path weights = flags["checkpoint"].as<std::string>();
    if (!std::filesystem::exists(weights)) {
      throw UsageError("--checkpoint \"" + weights.string() + "\": No such file or directory");
    }
    ExperimentConfig config = config_for(weights);
    if (flags.count("data-dir")) config.data.dir = flags["data-dir"].as<std::string>();
    const c10::Device device = train::resolve_device(flags["device"].as<std::string>());
    configure_threads(flags["threads"].as<int64_t>());
    const std::string dir = config.data.dir.empty() ? data::default_data_dir(config.data.dataset) : config.data.dir;
    const data::Dataset dataset =
        data::load_dataset(config.data.dataset, dir, data::DatasetOptions().coarse_labels(config.data.coarse_labels).device(device));
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
