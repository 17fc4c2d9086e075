#pragma once
// The `gates` search (relu-search.md §4.3): hard 0/1 site gates in the forward pass, scored on
// validation batches by the gate gradient, an exact budget by top-k with hysteresis. It runs inside
// the Trainer as a StepHook: the weights train with the current mask, and every few steps a
// validation batch scores every site.
#include <cstdint>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <propnet/data/dataset.h>
#include <propnet/dist/group.h>
#include <propnet/models/network.h>
#include <propnet/nn/site_gates.h>
#include <propnet/search/masks.h>
#include <propnet/train/trainer.h>

namespace propnet::search {

/// A registry network whose maskable sites follow the buffer `gates` (0 or 1 per site, network-mask
/// order) instead of its own mask: the mask changes by writing the buffer, with no rebuild and no
/// CUDA-graph re-capture, and the buffer travels with the checkpoint.
class GatedNetworkImpl : public torch::nn::Module {
 public:
  explicit GatedNetworkImpl(models::Network net);
  /// The network under its current gates.
  torch::Tensor forward(torch::Tensor x);
  /// The network under `values` (e.g. the gates as a leaf that requires grad).
  torch::Tensor forward_with(const torch::Tensor& x, const torch::Tensor& values);
  /// The gates as a mask (a value > 0.5 keeps the site).
  ReluMask mask() const;
  void set_mask(const ReluMask& mask);
  /// A deep copy (weights, buffers and gates), on `device` if given: an independent gated network.
  std::shared_ptr<torch::nn::Module> clone(const c10::optional<torch::Device>& device = c10::nullopt) const override;

  models::Network net;
  torch::Tensor gates;

 private:
  SiteGates sites_;
};
TORCH_MODULE(GatedNetwork);

/// The `gates` method's knobs; the defaults are relu-search.md §4.3's proposals.
struct GateSearchOptions {
  MaskBudget budget;             ///< Sites of the search space to keep (ignored with an element budget).
  /// With `max_elements` > 0, the budget in ReLU elements per image instead (per network site).
  ElementBudget elements;
  int64_t epochs = 1;            ///< The training run's epochs (the search's length).
  int64_t warmup_epochs = 0;     ///< First epochs with every ReLU kept (scores still accumulate).
  int64_t freeze_epochs = 0;     ///< Last epochs with the mask fixed.
  int64_t score_every = 4;       ///< One validation score step per this many training steps.
  int64_t reselect_every = 0;    ///< Training steps between mask reselections; 0 = a quarter of an epoch.
  int64_t score_batch = 64;      ///< Validation images per score step.
  double beta = 0.99;            ///< EMA of the scores, per score step.
  double hysteresis = 0.1;       ///< A site replaces another only if its score is higher by this x std(scores).
  uint64_t seed = 0;             ///< Score initialisation noise and the validation batch order.
  /// Data parallel: the ranks' gate gradients are averaged, so that every rank keeps the same
  /// scores and mask (each scores the same validation batch; the Trainer runs with the same group).
  std::shared_ptr<dist::Group> group;
};

/// The best mask of the budget under `scores` (one per site, higher = keep): each stage's minimum
/// first, then the highest scores. With `current` (a mask of the budget), sites swap in only where
/// a removed site's score beats a kept one's by more than `margin`.
ReluMask select_mask(const std::vector<double>& scores, const std::vector<int64_t>& stages, const MaskBudget& budget,
                     const ReluMask* current = nullptr, double margin = 0);

/// The mask of an element budget under `scores`: each stage's minimum first, then sites by score per
/// element while they fit (a negative score counts worse the more elements its site has). With
/// `current`, its kept sites' scores count `margin` higher (hysteresis).
/// Throws c10::ValueError when even the stages' minimum does not fit.
ReluMask select_mask_within(const std::vector<double>& scores, const std::vector<int64_t>& stages,
                            const ElementBudget& budget, const ReluMask* current = nullptr, double margin = 0);

/// What the search records after each epoch.
struct EpochMask {
  int64_t epoch = 0;     ///< 1-based.
  std::string mask;      ///< At the epoch's end.
  int64_t hamming = 0;   ///< Sites that changed since the previous epoch's end.
};

class GateSearch : public train::StepHook {
 public:
  /// `val` lies on the training device (the validation split). The warm-up keeps the space's base
  /// mask; selections choose among its sites (the others stay removed).
  GateSearch(GatedNetwork net, data::Split val, SearchSpace space, GateSearchOptions options);

  void after_step(const train::StepContext& context) override;
  void after_epoch(int64_t epoch) override;
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;

  ReluMask mask() const { return net_->mask(); }
  /// One per network site (sites outside the space are scored too).
  const std::vector<double>& scores() const { return scores_; }
  const std::vector<EpochMask>& trajectory() const { return trajectory_; }
  /// Sites changed since the last recorded epoch's end (0 before the first): what `after_epoch`
  /// records as the epoch's hamming distance, also right after a resume.
  int64_t changes_this_epoch() const;
  int64_t score_steps() const { return score_steps_; }
  int64_t val_images() const { return val_images_; }

 private:
  void score(const train::StepContext& context);
  ReluMask select(const ReluMask* current) const;
  at::Tensor next_val_indices();

  GatedNetwork net_;
  data::Split val_;
  SearchSpace space_;
  GateSearchOptions options_;
  std::vector<double> scores_;
  std::vector<EpochMask> trajectory_;
  bool selected_ = false;       // the budget's mask has replaced the warm-up's all-kept one
  int64_t score_steps_ = 0, val_images_ = 0;
  int64_t val_cursor_ = 0, val_pass_ = 0;
  std::vector<int64_t> val_order_;
};

}  // namespace propnet::search
