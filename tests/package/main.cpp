// A LibTorch project that uses an installed propnet as users' projects do: it builds the paper's 2:1
// pre-activation ResNet from the registry, then trains a small module of its own, with one of
// propnet's proportional units inside, through propnet's public Trainer on Fashion-MNIST.
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include <propnet/propnet.h>
#include <propnet/search/run.h>
#include <propnet/train/trainer.h>
#include <c10/core/Device.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>
#include <torch/utils.h>

namespace {

// conv-BN-ReLU, a 2:1 proportional unit (conv-BN-conv-BN-ReLU, stride 2), pooling, a classifier.
struct SmallNetImpl : torch::nn::Module {
  SmallNetImpl()
      : stem(register_module("stem", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 16, 3).padding(1).bias(false)))),
        bn(register_module("bn", torch::nn::BatchNorm2d(16))),
        unit(register_module("unit", propnet::Proportional(propnet::ProportionalOptions(16, 32, {false, true}).stride(2)))),
        fc(register_module("fc", torch::nn::Linear(32, 10))) {}
  torch::Tensor forward(torch::Tensor x) {
    x = unit(torch::relu(bn(stem(x))));
    return fc(torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1));
  }
  torch::nn::Conv2d stem;
  torch::nn::BatchNorm2d bn;
  propnet::Proportional unit;
  torch::nn::Linear fc;
};
TORCH_MODULE(SmallNet);

// A gate search on the program's data through the library alone: which 3 of preresnet-8's 6 ReLU
// sites to keep, then the found mask retrained from scratch, as `propnet search` and `train` do.
bool gate_search_and_retrain(const propnet::data::Dataset& data) {
  propnet::ExperimentConfig config;
  config.network.arch = "preresnet";
  config.network.depth = 8;
  config.network.in_channels = data.channels;
  config.train.epochs = 2;
  config.train.device = torch::Device(torch::kCPU);
  config.data.subset = 2000;
  config.data.val_split = 500;
  config.search.keep = 3;
  const propnet::search::SearchPlan plan = propnet::search::plan_search(config);  // checks the budget
  propnet::search::SearchRunOptions run;
  run.seed = 0;
  const propnet::search::SearchResult found =
      propnet::search::run(config, plan, propnet::search::search_data(config, data), run);
  if (!found.finished() || found.mask().relus() != 3) return false;
  std::cout << "gate search kept " << found.mask().to_string() << " (" << found.mask().relus() << " of "
            << plan.space.size() << " sites)\n";

  config.network = propnet::search::with_mask(config.network, found.mask());
  config.train.epochs = 1;
  const propnet::train::SeedResult r = propnet::train::train_seed(config, 0, data, torch::Device(torch::kCPU),
                                                                  propnet::train::SeedFiles(""));
  std::cout << "its mask retrained: " << r.final_test_acc() << "% test accuracy\n";
  return r.status == propnet::train::SeedStatus::kDone && r.final_test_acc() > 20.0;  // 2x chance after 1 epoch
}

constexpr int kSkip = 77;  // ctest's SKIP_RETURN_CODE for this test

}  // namespace

int main(int argc, char** argv) {
  propnet::models::NetworkSpec spec;
  spec.arch = "preresnet";
  spec.depth = 20;
  spec.mask.variant = "proportional";
  propnet::models::Network net = propnet::models::build_network(spec);
  const auto logits = net->forward(torch::randn({2, 3, 32, 32}));
  const auto summary = propnet::models::summarize(spec);
  std::cout << "propnet " << PROPNET_VERSION << ": " << spec.arch << "-" << spec.depth << " " << summary.ratio
            << ", " << summary.params << " params, logits " << logits.sizes() << "\n";
  if (logits.sizes() != torch::IntArrayRef({2, 10}) || summary.ratio != "2:1") return 1;

  const std::string data_dir = propnet::data::default_data_dir(propnet::data::DatasetKind::kFashionMnist);
  if (!std::filesystem::exists(std::filesystem::path(data_dir) / "train-images-idx3-ubyte.gz")) {
    std::cout << "SKIP: no Fashion-MNIST in " << data_dir << " (apt install dataset-fashion-mnist)\n";
    return kSkip;
  }
  propnet::data::Dataset data = propnet::data::load_dataset(propnet::data::DatasetKind::kFashionMnist, data_dir);
  data.train = data.train.head(6000);
  data.test = data.test.head(1000);

  torch::manual_seed(0);
  SmallNet model;
  propnet::train::TrainerOptions options;
  options.spec.epochs = 2;
  options.spec.device = torch::Device(torch::kCPU);
  options.spec.milestones = {1};  // one drop, x0.1 for epoch 2 (the paper's 1/2, 3/4, 7/8 would all fall there)
  options.dir = argc > 1 ? argv[1] : "";  // a seed folder: checkpoint.pt, model.pt, metrics
  options.hooks.on_epoch = [](const propnet::train::EpochMetrics& m) {
    std::cout << "epoch " << m.epoch << ": train loss " << m.train_loss << ", test accuracy " << m.test_acc << "%\n";
  };
  const propnet::train::SeedResult result = propnet::train::Trainer(model, data, options).run();
  const bool learned = result.status == propnet::train::SeedStatus::kDone && result.final_test_acc() > 50.0;  // 5x chance
  std::cout << "own module trained by propnet::train::Trainer: " << result.final_test_acc() << "% test accuracy "
            << "(chance 10%) -> " << (learned ? "ok" : "FAILED") << "\n";
  return learned && gate_search_and_retrain(data) ? 0 : 1;
}
