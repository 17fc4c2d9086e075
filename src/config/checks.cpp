#include "checks.h"

#include <propnet/choices.h>
#include <propnet/models/registry.h>

namespace propnet::config_detail {
namespace {

// Runs `check`, reporting its c10::ValueError at `where` (the registry's own messages, with a key path).
template <typename Fn>
void rethrow_at(const Where& where, Fn&& check) {
  try {
    check();
  } catch (const c10::ValueError& e) {
    fail(where, e.msg());
  }
}

}  // namespace

void check_fields(const ExperimentConfig& config, const Namer& where) {
  for (const Field& f : fields()) {
    if (f.is_object() || !f.check) continue;
    if (f.omitted && f.omitted(config)) continue;
    if (parent_of(f.key.path) == "paper" && !config.paper) continue;
    f.check(config, where(f.key.path));
  }
}

void check_train_rules(const TrainSpec& t, const Namer& where) {
  for (size_t i = 0; i < t.milestones.size(); ++i) {
    if (t.milestones[i] >= t.epochs) {
      fail(where("train.milestones").element(i), "expected an epoch in [0, ", t.epochs, ") = [0, train.epochs) (got ",
           t.milestones[i], "); change train.milestones or use train.milestone_fractions");
    }
  }
  if (t.nesterov && !(t.momentum > 0)) {
    fail(where("train.nesterov"), "expected false when train.momentum is 0 (got true); Nesterov needs momentum > 0");
  }
  check_device_rules(t, t.device, 1, where);
}

void check_device_rules(const TrainSpec& t, const std::optional<c10::Device>& device, int64_t ranks,
                        const Namer& where) {
  const bool cpu = device && device->is_cpu();
  const std::string on = device ? " on train.device \"" + device->str() + "\"" : "";
  if (t.amp == Amp::kFp16 && cpu) {
    fail(where("train.amp"), "expected \"off\" or \"bf16\"", on, " (got \"fp16\"); fp16 autocast needs a CUDA device");
  }
  if (t.cuda_graph && cpu) fail(where("train.cuda_graph"), "expected false", on, " (got true); CUDA graphs need a CUDA device");
  if (t.cuda_graph && t.amp == Amp::kFp16) {
    fail(where("train.cuda_graph"), "expected false with train.amp \"fp16\" (got true): the fp16 loss scaler reads "
         "the host every step, which a graph cannot replay; use train.amp \"bf16\"");
  }
  if (t.cuda_graph && ranks > 1) {
    fail(where("train.cuda_graph"), "expected false in a data-parallel run (got true with ", ranks,
         " ranks); the gradient all-reduce runs eagerly");
  }
}

void check_cross(const ExperimentConfig& c, const Namer& where) {
  const models::NetworkSpec& n = c.network;
  // The registry's own checks, so a bad name, depth, mask or switch fails before any data is read.
  rethrow_at(where("network.arch"), [&] { models::network_info(n.arch); });
  rethrow_at(where("network.depth"), [&] { models::stage_blocks(n); });
  // The mask's source first (a bad variant, mask or file), then the selectors on top of it.
  models::NetworkSpec without_drops = n;
  without_drops.mask.drop.clear();
  const char* mask_key = !c.relu_mask_file.empty() ? "network.relu_mask_file"  // its mask is in mask.keep
                         : n.mask.keep             ? "network.relu_mask"
                                                   : "network.variant";
  rethrow_at(where(mask_key), [&] { models::resolve_network_mask(without_drops); });
  rethrow_at(where("network.relu_drop"), [&] { models::resolve_network_mask(n); });
  if (const auto unused = models::unused_switch(n)) {
    fail(where("network." + unused->name), "expected ", unused->default_value, " for ", quoted(n.arch), " (got ",
         unused->value, "); it applies to ", unused->used_by, " only");
  }

  const DataSpec& d = c.data;
  if (d.coarse_labels && d.dataset != data::DatasetKind::kCifar100) {
    fail(where("data.coarse_labels"), "expected false for ", quoted(to_string(d.dataset)), " (got true); cifar100 only");
  }
  if (d.subset > 0 && d.val_split >= d.subset) {
    fail(where("data.val_split"), "expected fewer than data.subset's ", d.subset, " images (got ", d.val_split,
         "); some must be left to train on");
  }
  const int64_t classes = data::classes_of(d.dataset, d.coarse_labels);
  if (n.num_classes != classes) {
    fail(where("network.classes"), "expected ", classes, " for ", quoted(to_string(d.dataset)),
         d.coarse_labels ? " with coarse labels" : "", " (got ", n.num_classes, ")");
  }
  const int64_t channels = data::channels_of(d.dataset);
  if (n.in_channels != channels) {
    fail(where("network.in_channels"), "expected ", channels, " for ", quoted(to_string(d.dataset)), " (got ",
         n.in_channels, ")");
  }
  check_train_rules(c.train, where);
  check_search_rules(c.search, where);
}

void check_search_rules(const SearchSpec& s, const Namer& where) {
  const int given = (s.keep > 0) + (s.keep_fraction > 0) + (s.relu_budget > 0);
  if (given > 1) {
    fail(where(s.keep > 0 ? "search.keep" : "search.keep_fraction"),
         "give one budget: search.keep, search.keep_fraction or search.relu_budget (got ", given, ")");
  }
  if (s.relu_budget > 0 && (s.method == SearchMethod::kRandom || s.method == SearchMethod::kExhaustive)) {
    fail(where("search.relu_budget"), "expected 0 with search.method ", quoted(to_string(s.method)),
         " (got ", s.relu_budget, "); it draws masks of an exact site count: give search.keep or search.keep_fraction");
  }
  if (!(s.warmup_fraction + s.freeze_fraction < 1)) {
    fail(where("search.freeze_fraction"), "expected search.warmup_fraction + search.freeze_fraction < 1 (got ",
         number(s.warmup_fraction), " + ", number(s.freeze_fraction), "); the mask must be chosen in some epoch");
  }
}

}  // namespace propnet::config_detail
