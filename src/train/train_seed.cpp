// A registry network trained by the Trainer: what `propnet train` runs for each seed.
#include <propnet/train/trainer.h>

#include <torch/utils.h>

namespace propnet::train {

SeedResult train_seed(const ExperimentConfig& config, int64_t seed, const data::Dataset& data,
                      const c10::Device& device, const SeedFiles& files, const TrainerHooks& hooks,
                      const std::shared_ptr<dist::Group>& group) {
  torch::manual_seed(static_cast<uint64_t>(seed));  // the initial weights derive from the seed
  models::Network net(config.network);

  data::Dataset selected = data;
  selected.train = data.train.head(config.data.subset);
  selected.test = data.test.head(config.data.test_subset);
  selected = data::hold_out_validation(std::move(selected), config.data.val_split);  // the last N after subset

  TrainerOptions options = trainer_options(config, seed);
  options.device = device;
  options.dir = files.dir;
  options.group = group;
  options.hooks = hooks;
  return Trainer(net, selected, std::move(options)).run();
}

TrainerOptions trainer_options(const ExperimentConfig& config, int64_t seed) {
  TrainerOptions options;
  options.spec = config.train;
  options.seed = seed;
  options.augment = config.data.augment;
  options.drop_last = config.data.drop_last;
  options.checkpoint_config = to_json(config);
  return options;
}

}  // namespace propnet::train
