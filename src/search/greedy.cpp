#include <propnet/search/greedy.h>

#include <algorithm>
#include <limits>

#include <c10/util/Exception.h>
#include <torch/nn/functional/loss.h>
#include <torch/utils.h>

#include <propnet/train/device.h>

#include "splitmix.h"

namespace propnet::search {
namespace {

// The validation loss of the network under `mask`: BN statistics of each batch under that mask,
// running buffers untouched.
class LossMeter {
 public:
  LossMeter(GatedNetwork net, const data::Split& val, const data::Normalizer& normalizer, const GreedyOptions& o)
      : net_(std::move(net)) {
    const int64_t batch = std::min(o.batch_size, val.size());
    const std::vector<int64_t> order = detail::SplitMix64(o.seed * 1000003 + 17).permutation(val.size());
    for (int64_t b = 0; b < o.batches && (b + 1) * batch <= val.size(); ++b) {
      const std::vector<int64_t> picked(order.begin() + b * batch, order.begin() + (b + 1) * batch);
      const at::Tensor indices = at::tensor(picked).to(val.labels.device());
      at::Tensor x = data::make_batch(val.images, indices, normalizer, {}, {}, /*train=*/false);
      inputs_.push_back(o.channels_last ? train::to_channels_last(x) : x);
      labels_.push_back(val.labels.index_select(0, indices));
    }
    TORCH_CHECK_VALUE(!inputs_.empty(), "greedy: needs a validation split (--val-split N); the test set is never used");
  }

  double loss(const ReluMask& mask) {
    torch::NoGradGuard no_grad;
    std::vector<at::Tensor> buffers, saved;
    for (const auto& b : net_->net->buffers()) {
      buffers.push_back(b);
      saved.push_back(b.clone());
    }
    net_->set_mask(mask);
    net_->train();
    double sum = 0;
    int64_t images = 0;
    for (size_t b = 0; b < inputs_.size(); ++b) {
      const at::Tensor logits = net_->forward(inputs_[b]);
      sum += torch::nn::functional::cross_entropy(
                 logits.to(at::kFloat), labels_[b],
                 torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                 .item<double>();
      images += inputs_[b].size(0);
    }
    for (size_t i = 0; i < buffers.size(); ++i) buffers[i].copy_(saved[i]);
    ++measurements_;
    return sum / static_cast<double>(images);
  }

  int64_t measurements() const { return measurements_; }

 private:
  GatedNetwork net_;
  std::vector<at::Tensor> inputs_, labels_;
  int64_t measurements_ = 0;
};

}  // namespace

GreedyResult greedy_removal(GatedNetwork net, const data::Split& val, const data::Normalizer& normalizer,
                            const SearchSpace& space, const GreedyOptions& options,
                            const std::function<void(const GreedyRound&)>& on_round) {
  const bool by_elements = options.elements.max_elements > 0;
  const auto n = space.network_sites;
  if (by_elements) {
    TORCH_CHECK_VALUE(static_cast<int64_t>(options.elements.elements.size()) == n, "greedy: ",
                      options.elements.elements.size(), " element counts for ", n, " sites");
    ElementBudget minimum = options.elements;
    minimum.elements = space.gather(options.elements.elements);
    select_mask_within(std::vector<double>(space.sites.size(), 0.0), space.stages, minimum);  // throws if impossible
  } else {
    check_budget(space.stages, options.budget);
  }
  const int64_t min_per_stage = by_elements ? options.elements.min_keep_per_stage : options.budget.min_keep_per_stage;
  const auto elements_of = [&](int64_t site) {
    return by_elements ? options.elements.elements[static_cast<size_t>(site)] : int64_t{1};
  };

  LossMeter meter(net, val, normalizer, options);
  std::vector<bool> keep(static_cast<size_t>(n), false);
  std::vector<int64_t> per_stage(3, 0);
  int64_t kept_sites = 0, kept_elements = 0;
  for (size_t j = 0; j < space.sites.size(); ++j) {
    keep[static_cast<size_t>(space.sites[j])] = true;
    ++per_stage[static_cast<size_t>(space.stages[j] - 1)];
    ++kept_sites;
    kept_elements += elements_of(space.sites[j]);
  }
  const auto done = [&] {
    return by_elements ? kept_elements <= options.elements.max_elements : kept_sites <= options.budget.keep;
  };

  GreedyResult result;
  result.first_costs.assign(static_cast<size_t>(n), 0.0);
  double current = meter.loss(ReluMask(keep));
  result.base_loss = current;
  while (!done()) {
    int64_t best = -1;
    double best_value = std::numeric_limits<double>::infinity(), best_loss = 0;
    for (size_t j = 0; j < space.sites.size(); ++j) {
      const int64_t site = space.sites[j];
      const size_t stage = static_cast<size_t>(space.stages[j] - 1);
      if (!keep[static_cast<size_t>(site)] || per_stage[stage] <= min_per_stage) continue;
      std::vector<bool> candidate = keep;
      candidate[static_cast<size_t>(site)] = false;
      const double loss = meter.loss(ReluMask(candidate));
      if (result.rounds.empty()) result.first_costs[static_cast<size_t>(site)] = loss - current;
      // With an element budget the cheapest removal per element saved; a removal that lowers the loss
      // is better the more it saves (so it is scaled by, not divided by, its elements). Per site otherwise.
      const double cost = loss - current, elements = static_cast<double>(std::max<int64_t>(elements_of(site), 1));
      const double value = cost < 0 ? cost * elements : cost / elements;
      if (value < best_value) {
        best = site;
        best_value = value;
        best_loss = loss;
      }
    }
    TORCH_CHECK_VALUE(best >= 0, "greedy: no site can be removed without leaving a stage below min-keep-per-stage ",
                      min_per_stage, ", and the budget is not met yet");
    keep[static_cast<size_t>(best)] = false;
    for (size_t j = 0; j < space.sites.size(); ++j) {
      if (space.sites[j] == best) --per_stage[static_cast<size_t>(space.stages[j] - 1)];
    }
    --kept_sites;
    kept_elements -= elements_of(best);
    current = best_loss;
    result.rounds.push_back({best, best_loss, ReluMask(keep).to_string()});
    if (on_round) on_round(result.rounds.back());
  }
  result.mask = ReluMask(keep);
  result.measurements = meter.measurements();
  net->set_mask(result.mask);
  return result;
}

}  // namespace propnet::search
