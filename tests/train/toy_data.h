#pragma once
// A learnable toy problem for trainer tests: each class has its own brightness pattern, plus noise.
#include <torch/types.h>
#include <torch/utils.h>

#include <propnet/data/dataset.h>

namespace propnet::train {

inline data::Dataset toy_dataset(int64_t train_size = 192, int64_t test_size = 64) {
  torch::manual_seed(42);
  auto make = [](int64_t n) {
    const auto labels = torch::randint(0, 4, {n}, torch::kLong);
    const auto pattern = torch::linspace(0, 1, 32).view({1, 1, 1, 32}) * (labels.view({n, 1, 1, 1}).to(torch::kFloat) + 1);
    const auto noise = torch::rand({n, 3, 32, 32}) * 40;
    const auto images = (pattern * 50 + noise).clamp(0, 255).to(torch::kUInt8).contiguous();
    return data::Split{images, labels};
  };
  data::Dataset d;
  d.name = "toy";
  d.train = make(train_size);
  d.test = make(test_size);
  d.classes = {"a", "b", "c", "d"};
  d.channels = 3;
  d.mean = {60, 60, 60};
  d.std = {40, 40, 40};
  return d;
}

}  // namespace propnet::train
