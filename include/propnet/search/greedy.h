#pragma once
// The `greedy` search (relu-search.md §4.4): from a network trained with every ReLU of the search
// space, remove one site at a time, the one whose removal raises the validation loss least, until the
// budget. A stand-in for DeepReDuce's criticality and SENet's sensitivity, and a cheap competitor.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <propnet/data/dataset.h>
#include <propnet/data/transforms.h>
#include <propnet/search/gate_search.h>
#include <propnet/search/masks.h>

namespace propnet::search {

struct GreedyOptions {
  MaskBudget budget;        ///< Sites of the space to keep (ignored with an element budget).
  ElementBudget elements;   ///< With `max_elements` > 0: remove until the kept elements fit (per network site).
  int64_t batches = 5;      ///< Validation batches that measure each candidate removal.
  int64_t batch_size = 64;
  uint64_t seed = 0;        ///< Which validation images are measured.
  bool channels_last = false;  ///< The layout the network was trained in.
};

/// One removal.
struct GreedyRound {
  int64_t removed = 0;   ///< Network-mask index of the site removed.
  double val_loss = 0;   ///< The measured validation loss after removing it.
  std::string mask;      ///< The network mask after the round.
};

struct GreedyResult {
  ReluMask mask = ReluMask::paired(1);
  double base_loss = 0;   ///< With every site of the space kept.
  /// Per network site: how much removing it alone raised the loss (the first round); 0 outside the space.
  std::vector<double> first_costs;
  std::vector<GreedyRound> rounds;
  int64_t measurements = 0;  ///< Forward passes over the validation batches, each `batches` batches.
};

/// Runs the greedy removal on `net` (trained, on the device of `val`). Each measurement sets the
/// candidate mask through the gates and runs the validation batches with BN in training mode, so
/// that the statistics are those of the candidate network (the recalibration such a removal needs);
/// the running buffers are restored afterwards and the weights never change. Ties go to the lower
/// site index. With an element budget the cost is per element saved (a removal that lowers the loss
/// counts better the more it saves). `on_round` sees every round (progress). Leaves `net` with the final mask.
GreedyResult greedy_removal(GatedNetwork net, const data::Split& val, const data::Normalizer& normalizer,
                            const SearchSpace& space, const GreedyOptions& options,
                            const std::function<void(const GreedyRound&)>& on_round = {});

}  // namespace propnet::search
