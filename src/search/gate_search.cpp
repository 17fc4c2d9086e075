#include <propnet/search/gate_search.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>

#include <ATen/ops/ones.h>
#include <c10/util/Exception.h>
#include <torch/autograd.h>
#include <torch/nn/functional/loss.h>
#include <torch/serialize/archive.h>
#include <torch/utils.h>

#include <propnet/models/network_mask.h>
#include <propnet/train/precision.h>

#include "splitmix.h"

namespace propnet::search {
namespace {

at::Tensor values_of(const ReluMask& mask, const at::TensorOptions& options) {
  std::vector<float> values(static_cast<size_t>(mask.units()));
  for (int64_t i = 0; i < mask.units(); ++i) values[static_cast<size_t>(i)] = mask.keeps(i) ? 1.f : 0.f;
  return at::tensor(values).to(options);
}

double standard_deviation(const std::vector<double>& v) {
  const double mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  double sum = 0;
  for (double x : v) sum += (x - mean) * (x - mean);
  return std::sqrt(sum / static_cast<double>(v.size()));
}

int64_t hamming(const ReluMask& a, const ReluMask& b) {
  int64_t d = 0;
  for (int64_t i = 0; i < a.units(); ++i) d += a.keeps(i) != b.keeps(i);
  return d;
}

}  // namespace

GatedNetworkImpl::GatedNetworkImpl(models::Network net_) : net(register_module("net", std::move(net_))) {
  sites_ = net->site_gates();
  gates = register_buffer("gates", at::ones({sites_.size()}));
  set_mask(models::resolve_network_mask(net->spec()));
}

std::shared_ptr<torch::nn::Module> GatedNetworkImpl::clone(const c10::optional<torch::Device>& device) const {
  auto copy = std::make_shared<GatedNetworkImpl>(
      models::Network(std::dynamic_pointer_cast<models::NetworkImpl>(net->clone(device))));
  if (device) copy->to(*device);  // its gates beside its network
  torch::NoGradGuard no_grad;
  copy->gates.copy_(gates);
  return copy;
}

torch::Tensor GatedNetworkImpl::forward(torch::Tensor x) { return forward_with(x, gates); }

torch::Tensor GatedNetworkImpl::forward_with(const torch::Tensor& x, const torch::Tensor& values) {
  GateScope scope(sites_, values);
  return net->forward(x);
}

ReluMask GatedNetworkImpl::mask() const {
  const at::Tensor kept = gates.detach().cpu().gt(0.5);
  std::vector<bool> keep(static_cast<size_t>(kept.numel()));
  for (int64_t i = 0; i < kept.numel(); ++i) keep[static_cast<size_t>(i)] = kept[i].item<bool>();
  return ReluMask(std::move(keep));
}

void GatedNetworkImpl::set_mask(const ReluMask& mask) {
  TORCH_CHECK_VALUE(mask.units() == gates.numel(), "GatedNetwork: expected a mask of ", gates.numel(), " sites (got ",
                    mask.units(), ")");
  torch::NoGradGuard no_grad;
  gates.copy_(values_of(mask, gates.options()));
}

ReluMask select_mask(const std::vector<double>& scores, const std::vector<int64_t>& stages, const MaskBudget& budget,
                     const ReluMask* current, double margin) {
  check_budget(stages, budget);
  const auto n = static_cast<int64_t>(scores.size());
  TORCH_CHECK_VALUE(n == static_cast<int64_t>(stages.size()), "select_mask: ", n, " scores for ", stages.size(), " sites");
  std::vector<bool> keep(static_cast<size_t>(n), false);
  std::vector<int64_t> per_stage(3, 0);
  const auto stage_of = [&](int64_t i) { return static_cast<size_t>(stages[static_cast<size_t>(i)] - 1); };
  if (current == nullptr || !meets(*current, stages, budget)) {
    std::vector<int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
      return scores[static_cast<size_t>(a)] > scores[static_cast<size_t>(b)];
    });
    int64_t kept = 0;
    for (int64_t i : order) {  // each stage's minimum first
      if (per_stage[stage_of(i)] < budget.min_keep_per_stage) {
        keep[static_cast<size_t>(i)] = true;
        ++per_stage[stage_of(i)];
        ++kept;
      }
    }
    for (int64_t i : order) {  // then the highest scores
      if (kept == budget.keep) break;
      if (!keep[static_cast<size_t>(i)]) {
        keep[static_cast<size_t>(i)] = true;
        ++kept;
      }
    }
    return ReluMask(std::move(keep));
  }
  for (int64_t i = 0; i < n; ++i) {
    keep[static_cast<size_t>(i)] = current->keeps(i);
    per_stage[stage_of(i)] += current->keeps(i);
  }
  for (int64_t swaps = 0; swaps < n; ++swaps) {  // the best removed site against the worst kept one it may replace
    int64_t in = -1;
    for (int64_t i = 0; i < n; ++i) {
      if (!keep[static_cast<size_t>(i)] && (in < 0 || scores[static_cast<size_t>(i)] > scores[static_cast<size_t>(in)])) in = i;
    }
    if (in < 0) break;
    int64_t out = -1;
    for (int64_t j = 0; j < n; ++j) {
      const bool removable = stage_of(j) == stage_of(in) || per_stage[stage_of(j)] > budget.min_keep_per_stage;
      if (keep[static_cast<size_t>(j)] && removable &&
          (out < 0 || scores[static_cast<size_t>(j)] < scores[static_cast<size_t>(out)])) {
        out = j;
      }
    }
    if (out < 0 || scores[static_cast<size_t>(in)] <= scores[static_cast<size_t>(out)] + margin) break;
    keep[static_cast<size_t>(in)] = true;
    keep[static_cast<size_t>(out)] = false;
    ++per_stage[stage_of(in)];
    --per_stage[stage_of(out)];
  }
  return ReluMask(std::move(keep));
}

ReluMask select_mask_within(const std::vector<double>& scores, const std::vector<int64_t>& stages,
                            const ElementBudget& budget, const ReluMask* current, double margin) {
  const auto n = static_cast<int64_t>(scores.size());
  TORCH_CHECK_VALUE(n == static_cast<int64_t>(stages.size()) && n == static_cast<int64_t>(budget.elements.size()),
                    "select_mask_within: ", n, " scores for ", stages.size(), " sites and ", budget.elements.size(),
                    " element counts");
  const auto at = [](const auto& v, int64_t i) { return v[static_cast<size_t>(i)]; };
  std::vector<double> value(static_cast<size_t>(n));  // score per element, kept sites favoured by the margin
  for (int64_t i = 0; i < n; ++i) {
    const double bonus = current != nullptr && current->keeps(i) ? margin : 0.0;
    // Benefit per element spent; a harmful ReLU (score < 0) is worse the more elements it has.
    const double score = at(scores, i) + bonus, elements = static_cast<double>(std::max<int64_t>(at(budget.elements, i), 1));
    value[static_cast<size_t>(i)] = score > 0 ? score / elements : score * elements;
  }
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return at(value, a) > at(value, b); });
  std::vector<bool> keep(static_cast<size_t>(n), false);
  std::vector<int64_t> per_stage(3, 0);
  int64_t used = 0;
  for (int64_t i : order) {  // each stage's minimum first, whatever it costs
    int64_t& k = per_stage[static_cast<size_t>(at(stages, i) - 1)];
    if (k >= budget.min_keep_per_stage) continue;
    keep[static_cast<size_t>(i)] = true;
    ++k;
    used += at(budget.elements, i);
  }
  TORCH_CHECK_VALUE(used <= budget.max_elements, "relu-budget ", budget.max_elements, ": the ",
                    budget.min_keep_per_stage, " site(s) per stage that min-keep-per-stage asks for already take ",
                    used, " ReLU elements per image; raise the budget or lower the minimum");
  for (int64_t i : order) {
    if (keep[static_cast<size_t>(i)] || used + at(budget.elements, i) > budget.max_elements) continue;
    keep[static_cast<size_t>(i)] = true;
    used += at(budget.elements, i);
  }
  return ReluMask(std::move(keep));
}

GateSearch::GateSearch(GatedNetwork net, data::Split val, SearchSpace space, GateSearchOptions options)
    : net_(std::move(net)), val_(std::move(val)), space_(std::move(space)), options_(std::move(options)) {
  TORCH_CHECK_VALUE(val_.size() > 0, "gates: needs a validation split (--val-split N); the test set is never used");
  TORCH_CHECK_VALUE(space_.network_sites == net_->gates.numel(), "gates: a search space of ", space_.network_sites,
                    " sites for ", net_->gates.numel(), " gates");
  TORCH_CHECK_VALUE(options_.score_every >= 1, "gates: expected score_every >= 1 (got ", options_.score_every, ")");
  TORCH_CHECK_VALUE(options_.warmup_epochs >= 0 && options_.freeze_epochs >= 0 &&
                        options_.warmup_epochs + options_.freeze_epochs <= options_.epochs,
                    "gates: expected warm-up (", options_.warmup_epochs, ") + freeze (", options_.freeze_epochs,
                    ") epochs within the ", options_.epochs, " epochs");
  if (options_.elements.max_elements > 0) {
    TORCH_CHECK_VALUE(static_cast<int64_t>(options_.elements.elements.size()) == space_.network_sites, "gates: ",
                      options_.elements.elements.size(), " element counts for ", space_.network_sites, " sites");
    ElementBudget minimum = options_.elements;
    minimum.elements = space_.gather(options_.elements.elements);
    select_mask_within(std::vector<double>(space_.sites.size(), 0.0), space_.stages, minimum);  // throws if impossible
  } else {
    check_budget(space_.stages, options_.budget);
  }
  detail::SplitMix64 noise(options_.seed ^ 0x5eed5c0e5ull);
  for (int64_t i = 0; i < space_.network_sites; ++i) scores_.push_back(1e-3 * (2 * noise.uniform() - 1));  // breaks ties
  net_->set_mask(space_.base);  // warm-up: every ReLU of the space kept
}

ReluMask GateSearch::select(const ReluMask* current) const {
  const std::vector<double> scores = space_.gather(scores_);
  const double margin = options_.hysteresis * standard_deviation(scores);
  std::optional<ReluMask> now;
  if (current != nullptr) now = space_.restrict(*current);
  const ReluMask* kept = now ? &*now : nullptr;
  if (options_.elements.max_elements > 0) {
    ElementBudget budget = options_.elements;
    budget.elements = space_.gather(options_.elements.elements);
    return space_.expand(select_mask_within(scores, space_.stages, budget, kept, margin));
  }
  return space_.expand(select_mask(scores, space_.stages, options_.budget, kept, margin));
}

at::Tensor GateSearch::next_val_indices() {
  const int64_t n = val_.size(), batch = std::min(options_.score_batch, n);
  if (val_order_.empty() || val_cursor_ + batch > n) {
    val_order_ = detail::SplitMix64(options_.seed * 1000003 + static_cast<uint64_t>(val_pass_++)).permutation(n);
    val_cursor_ = 0;
  }
  std::vector<int64_t> picked(val_order_.begin() + val_cursor_, val_order_.begin() + val_cursor_ + batch);
  val_cursor_ += batch;
  return at::tensor(picked).to(val_.labels.device());
}

void GateSearch::score(const train::StepContext& context) {
  const at::Tensor indices = next_val_indices();
  const at::Tensor x = context.input(val_, indices);
  const at::Tensor labels = val_.labels.index_select(0, indices);
  // Validation batches must not move the BN running statistics: back them up and restore them.
  std::vector<at::Tensor> buffers, saved;
  for (const auto& b : net_->net->buffers()) {
    buffers.push_back(b);
    saved.push_back(b.detach().clone());
  }
  const at::Tensor g = net_->gates.detach().clone().set_requires_grad(true);
  at::Tensor logits;
  {
    train::AutocastScope autocast(context.device, context.amp);  // the training steps' precision
    logits = net_->forward_with(x, g);
  }
  const at::Tensor loss = torch::nn::functional::cross_entropy(logits.to(at::kFloat), labels);
  const at::Tensor gradient = torch::autograd::grad({loss}, {g})[0];
  // Equal on every rank up to the device's nondeterminism; the mean makes the bits, and so the masks, agree.
  if (options_.group && options_.group->world_size() > 1) options_.group->average_all({gradient});
  const at::Tensor benefit = -gradient.to(at::kCPU, at::kDouble);
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < buffers.size(); ++i) buffers[i].copy_(saved[i]);
  }
  const double* b = benefit.data_ptr<double>();
  for (size_t i = 0; i < scores_.size(); ++i) scores_[i] = options_.beta * scores_[i] + (1 - options_.beta) * b[i];
  ++score_steps_;
  val_images_ += indices.numel();
}

void GateSearch::after_step(const train::StepContext& context) {
  const int64_t global = context.epoch * context.steps + context.step;
  if (global % options_.score_every == 0) score(context);
  if (context.epoch < options_.warmup_epochs) return;
  const bool frozen = context.epoch >= options_.epochs - options_.freeze_epochs;
  const int64_t every = options_.reselect_every > 0 ? options_.reselect_every : std::max<int64_t>(1, context.steps / 4);
  if (selected_ && (frozen || global % every != 0)) return;
  const ReluMask current = net_->mask();
  net_->set_mask(select(selected_ ? &current : nullptr));
  selected_ = true;
}

int64_t GateSearch::changes_this_epoch() const {
  return trajectory_.empty() ? 0 : hamming(mask(), ReluMask::parse(trajectory_.back().mask));
}

void GateSearch::after_epoch(int64_t epoch) { trajectory_.push_back({epoch, mask().to_string(), changes_this_epoch()}); }

void GateSearch::save(torch::serialize::OutputArchive& archive) const {
  archive.write("scores", at::tensor(scores_, at::kDouble));
  archive.write("counters", at::tensor(std::vector<int64_t>{selected_ ? 1 : 0, score_steps_, val_images_, val_cursor_, val_pass_}));
  archive.write("val_order", at::tensor(val_order_, at::kLong));
  std::vector<int64_t> epochs, hammings, bits;
  for (const EpochMask& e : trajectory_) {
    epochs.push_back(e.epoch);
    hammings.push_back(e.hamming);
    for (char c : e.mask) bits.push_back(c == '1');
  }
  archive.write("trajectory_epochs", at::tensor(epochs, at::kLong));
  archive.write("trajectory_hamming", at::tensor(hammings, at::kLong));
  archive.write("trajectory_bits", at::tensor(bits, at::kLong));
}

void GateSearch::load(torch::serialize::InputArchive& archive) {
  at::Tensor scores, counters, order, epochs, hammings, bits;
  archive.read("scores", scores);
  archive.read("counters", counters);
  archive.read("val_order", order);
  archive.read("trajectory_epochs", epochs);
  archive.read("trajectory_hamming", hammings);
  archive.read("trajectory_bits", bits);
  scores = scores.to(at::kCPU, at::kDouble).contiguous();  // the checkpoint maps tensors to the device
  scores_.assign(scores.data_ptr<double>(), scores.data_ptr<double>() + scores.numel());
  counters = counters.to(at::kCPU, at::kLong).contiguous();
  const int64_t* c = counters.data_ptr<int64_t>();
  selected_ = c[0] != 0;
  score_steps_ = c[1];
  val_images_ = c[2];
  val_cursor_ = c[3];
  val_pass_ = c[4];
  order = order.to(at::kCPU, at::kLong).contiguous();
  val_order_.assign(order.data_ptr<int64_t>(), order.data_ptr<int64_t>() + order.numel());
  trajectory_.clear();
  epochs = epochs.cpu();
  hammings = hammings.cpu();
  bits = bits.cpu();
  const int64_t sites = space_.network_sites;
  for (int64_t e = 0; e < epochs.numel(); ++e) {
    std::string mask;
    for (int64_t i = 0; i < sites; ++i) mask += bits[e * sites + i].item<int64_t>() ? '1' : '0';
    trajectory_.push_back({epochs[e].item<int64_t>(), mask, hammings[e].item<int64_t>()});
  }
}

}  // namespace propnet::search
