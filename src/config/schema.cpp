// The one table of config keys. Adding a key: a row here, its use, and its line in configs/README.md
// (ConfigDocsTest fails until the README documents it).
#include "schema.h"

#include <c10/util/StringUtil.h>

#include <propnet/models/registry.h>

#include "fields.h"

namespace propnet::config_detail {

Field& Field::flag(std::string name, FlagGroup group, std::string help) {
  key.flag.name = std::move(name);
  key.flag.group = group;
  key.flag.help = std::move(help);
  return *this;
}

Field& Field::repeatable() {
  key.flag.repeatable = true;
  return *this;
}

Field& Field::switch_flag(std::string name, FlagGroup group, std::string help, Json sets) {
  flag(std::move(name), group, std::move(help));
  key.flag.takes_value = false;
  key.flag.switch_value = sets.dump();
  return *this;
}

Field& Field::implicit(std::string value) {
  key.flag.implicit_value = std::move(value);
  return *this;
}

Field& Field::words(std::vector<std::pair<std::string, Json>> flag_words_) {
  flag_words = std::move(flag_words_);
  return *this;
}

Field& Field::run_invariant() {
  key.changes_results = false;
  return *this;
}

Field& Field::require(std::string hint) {
  required = std::move(hint);
  return *this;
}

Field& Field::checked_by(std::string allowed) {
  check = nullptr;
  key.allowed = std::move(allowed);
  return *this;
}

namespace {

// The accessor of one member: `MEMBER(train.lr)` selects config.train.lr.
#define MEMBER(path) +[](ExperimentConfig& c) -> auto& { return c.path; }

void relative_folder(const std::string& name, const Where& where) {
  if (name.empty()) return;
  bool safe = name.front() != '/' && name.back() != '/';
  size_t begin = 0;
  while (safe && begin <= name.size()) {
    const size_t end = std::min(name.find('/', begin), name.size());
    const std::string part = name.substr(begin, end - begin);
    safe = !part.empty() && part != "." && part != "..";
    begin = end + 1;
  }
  if (!safe) fail(where, "expected a relative folder name such as \"table2/preresnet-110\" (got ", quoted(name), ")");
}

void folder(const std::string& name, const Where& where) {
  if (name.empty()) fail(where, "expected a folder (got \"\")");
}

void fractions(const std::vector<double>& values, const Where& where) {
  for (size_t i = 0; i < values.size(); ++i) {
    const double f = values[i];
    if (!(f > 0 && f < 1)) fail(where.element(i), "expected a fraction of the run in (0, 1) (got ", number(f), ")");
    if (i > 0 && !(f > values[i - 1])) {
      fail(where.element(i), "expected increasing fractions (got ", number(f), " after ", number(values[i - 1]), ")");
    }
  }
}

void epochs(const std::vector<int64_t>& values, const Where& where) {
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i] < 0) fail(where.element(i), "expected an integer >= 0 (got ", values[i], ")");
    if (i > 0 && values[i] <= values[i - 1]) {
      fail(where.element(i), "expected increasing epochs (got ", values[i], " after ", values[i - 1], ")");
    }
  }
}

Range accuracy() {
  Range r = between(0, 100, false, false);
  r.what = "an accuracy";
  r.unit = " %";
  return r;
}

Range bn_momentum() {
  Range r = between(0, 1, true, false);
  r.hint = "; LibTorch's convention, 0.1 = MXNet's 0.9";
  return r;
}

// "paper" is null or an object; reading it makes the optional hold a value, and its keys live inside.
Field nullable_paper() {
  Field paper = object("paper", "The paper's accuracy for the row this config reproduces, or null.").run_invariant();
  paper.nullable = true;
  paper.read = [](ExperimentConfig& c, const Json& v, const Where&) {
    if (v.is_null()) {
      c.paper.reset();
    } else {
      c.paper.emplace();
    }
  };
  paper.omitted = [](const ExperimentConfig& c) { return !c.paper.has_value(); };
  return paper;
}

std::vector<Field> make_table() {
  return {
      text("name", MEMBER(name), "Run folder under \"out\"; \"\" derives it from the network and data set.",
           relative_folder)
          .flag("name", kExperimentFlags, "run folder name (default <net>-<depth>-<variant>-<dataset>)")
          .run_invariant(),

      object("network", "The network: a registry family, its depth and which ReLUs it keeps.")
          .require("e.g. \"network\": {\"arch\": \"preresnet\", \"depth\": 110}"),
      text("network.arch", MEMBER(network.arch), "Registry family: plain, resnet, preresnet, preresnet-bottleneck or dfn-mr.")
          .flag("net", kNetworkFlags, "network: plain, resnet, preresnet, preresnet-bottleneck, dfn-mr (see --list)")
          .require("expected one of: " + c10::Join(", ", models::network_names()))
          .checked_by(choice_list(models::network_names())),
      integer("network.depth", MEMBER(network.depth), 0, "Plain-equivalent depth, as the paper's tables write it.")
          .flag("depth", kNetworkFlags, "plain-equivalent depth as in the paper's tables (e.g. 110)")
          .require("expected the plain-equivalent depth, e.g. 110")
          .checked_by("the family's depth rule (propnet info --list)"),
      text("network.variant", MEMBER(network.mask.variant), "Named keep-mask of the block (paired, proportional, type1, ...).")
          .flag("variant", kNetworkFlags, "named keep-mask: paired, proportional, type1, ... (see --list; default paired)")
          .checked_by("the family's variants (propnet info --list)"),
      network_keep_bits("network.relu_mask",
           "Explicit keep-mask, replaces variant: a block pattern for every unit, or one bit per site instance.")
          .flag("relu-mask", kNetworkFlags,
                "explicit keep-mask ('1' keep, '0' removed): a block pattern such as 011 for every unit, or one bit per "
                "site instance in forward order ('.' may separate units; see info --sites)")
          .checked_by("'0'/'1' per block site, or per site instance"),
      text("network.relu_mask_file", MEMBER(relu_mask_file),
           "File with the mask (text, or JSON with \"relu_mask\"); read when relu_mask is empty.")
          .flag("relu-mask-file", kNetworkFlags, "read the keep-mask from FILE: text, or JSON with a \"relu_mask\" string "
                "(what propnet search writes)")
          .checked_by("a readable mask file")
          .run_invariant(),
      string_list("network.relu_drop", MEMBER(network.mask.drop), "globs over site names",
                  "Sites whose ReLU is removed on top of the variant or mask, e.g. [\"stage3.*.before_conv1\"].")
          .flag("relu-drop", kNetworkFlags, "remove the ReLUs of the sites matching this glob, e.g. 'stage3.*.before_conv1' "
                "(repeatable; info --sites lists the names)")
          .repeatable()
          .checked_by("each matches a site of the network"),
      integer("network.classes", MEMBER(network.num_classes), 2, "Classifier outputs; default from data.dataset.")
          .flag("classes", kNetworkFlags, "number of classes (default: the data set's; 10 for CIFAR-10, 100 for CIFAR-100)"),
      integer("network.in_channels", MEMBER(network.in_channels), 1, "Input channels; default from data.dataset.")
          .flag("in-channels", kNetworkFlags, "input channels (default: the data set's; 3 for CIFAR, 1 for Fashion-MNIST)"),
      integer("network.widen_factor", MEMBER(network.widen_factor), 1, "DFN-MR widen factor k; other networks need 1.")
          .flag("widen-factor", kNetworkFlags, "DFN-MR widen factor k (1 is DFN-MR1)"),
      choice("network.shortcut", MEMBER(network.options.shortcut), "Pre-activation basic block shortcut (spec §10.5).")
          .flag("shortcut", kSwitchFlags, "pre-activation basic block shortcut: A (zero-pad) or B (1x1 projection)"),
      boolean("network.shared_preactivation", MEMBER(network.options.shared_preactivation),
              "First unit of each pre-act stage feeds BN-ReLU(x) to both paths (spec §4.1).")
          .switch_flag("no-shared-preactivation", kSwitchFlags,
                       "pre-act stage-first units: shortcut takes raw x instead of the shared BN-ReLU(x)", false),
      boolean("network.shortcut_keeps_relu", MEMBER(network.options.shortcut_keeps_relu),
              "Where a mask removes that shared ReLU, keep it on the shortcut (spec §10.6).")
          .switch_flag("shortcut-keeps-relu", kSwitchFlags,
                       "where the first ReLU is removed from a shared pre-activation, keep it on the shortcut", true),
      choice("network.bottleneck_stride", MEMBER(network.options.bottleneck_stride),
             "Bottleneck downsampling on the first 1x1 or on the 3x3 (spec §4.1).")
          .flag("bottleneck-stride", kSwitchFlags, "bottleneck downsampling on: first-1x1 (He's code) or 3x3"),
      choice("network.final_merge", MEMBER(network.options.final_merge), "DFN-MR's last block: ReLU(M+D1+D2) or ReLU(2M+D1+D2).")
          .flag("final-merge", kSwitchFlags, "DFN-MR last block: sum = ReLU(M+D1+D2), double = ReLU(2M+D1+D2)"),
      choice("network.plain_indexing", MEMBER(network.options.plain_indexing), "How the plain net numbers its convs for the mask.")
          .flag("plain-indexing", kSwitchFlags, "plain mask numbering over convs: global or per-stage"),
      choice("network.conv_init", MEMBER(network.options.conv_init), "MSRA conv init fan mode (spec §10.7).")
          .flag("conv-init", kSwitchFlags, "MSRA conv init: fan-in (fusenet) or fan-out (He)"),
      number("network.bn_eps", MEMBER(network.options.bn_eps), above(0), "BatchNorm epsilon (MXNet's 2e-5)."),
      number("network.bn_momentum", MEMBER(network.options.bn_momentum), bn_momentum(),
             "BatchNorm momentum, LibTorch's convention (= MXNet's 0.9)."),

      object("data", "The data set and its pipeline."),
      choice("data.dataset", MEMBER(data.dataset), "The data set.")
          .flag("dataset", kDataFlags, "cifar10, cifar100 or fashion-mnist (Fashion-MNIST is 28x28, zero-padded to 32x32)"),
      text("data.dir", MEMBER(data.dir), "Data folder; \"\" = the data set's default (Fashion-MNIST only).")
          .flag("data-dir", kDataFlags, "data folder (default for fashion-mnist: /usr/share/datasets/fashion-mnist)")
          .run_invariant(),
      boolean("data.coarse_labels", MEMBER(data.coarse_labels), "CIFAR-100 only: the 20 coarse labels.")
          .switch_flag("coarse", kDataFlags, "CIFAR-100: the 20 coarse labels", true),
      integer("data.subset", MEMBER(data.subset), 0, "Train on the first N training images only; 0 = all.")
          .flag("subset", kDataFlags, "train on the first N training images only (quick checks)"),
      integer("data.test_subset", MEMBER(data.test_subset), 0, "Evaluate on the first N test images only; 0 = all.")
          .flag("test-subset", kDataFlags, "evaluate on the first N test images only"),
      integer("data.val_split", MEMBER(data.val_split), 0,
              "Hold the last N training images (after subset) out, evaluated each epoch as val_loss/val_acc.")
          .flag("val-split", kDataFlags, "hold the last N training images (after --subset) out of training; evaluated "
                "after every epoch as val_loss/val_acc (never test images)"),
      boolean("data.augment", MEMBER(data.augment), "Pad-4 random crop + horizontal flip (spec §6).")
          .switch_flag("no-augment", kDataFlags, "no pad-crop-flip augmentation", false),
      boolean("data.drop_last", MEMBER(data.drop_last), "Drop the last partial training batch."),

      object("train", "The training protocol (spec §6)."),
      integer("train.epochs", MEMBER(train.epochs), 1, "Epochs.")
          .flag("epochs", kTrainingFlags, "epochs (default 400; the lr drops stay at 1/2, 3/4, 7/8 of the steps)"),
      integer("train.batch_size", MEMBER(train.batch_size), 1, "Training batch (the global one with several ranks).")
          .flag("batch-size", kTrainingFlags,
                "batch size (default 64; with several ranks the global batch, see train.batch_scope)"),
      number("train.lr", MEMBER(train.lr), above(0), "Initial learning rate.")
          .flag("lr", kTrainingFlags, "initial learning rate (default 0.1)"),
      number("train.momentum", MEMBER(train.momentum), between(0, 1, false, true), "SGD momentum."),
      boolean("train.nesterov", MEMBER(train.nesterov), "Nesterov momentum; needs momentum > 0."),
      number("train.weight_decay", MEMBER(train.weight_decay), at_least(0), "L2 on all parameters."),
      number_list("train.milestone_fractions", MEMBER(train.milestone_fractions), "numbers in (0, 1), increasing",
                  "LR drops at floor(f * epochs * steps per epoch), in optimizer steps.", fractions),
      integer_list("train.milestones", MEMBER(train.milestones), "integers in [0, epochs), increasing",
                   "Explicit 0-based drop epochs; replace milestone_fractions when non-empty.", epochs),
      number("train.lr_factor", MEMBER(train.lr_factor), between(0, 1, true, false), "LR multiplier at each milestone."),
      integer("train.eval_batch_size", MEMBER(train.eval_batch_size), 1, "Batch of the per-epoch test pass."),
      integer("train.test_every", MEMBER(train.test_every), 0,
              "Test pass after every N-th epoch and always after the last; 0 = after the last only.")
          .flag("test-every", kTrainingFlags,
                "test pass after every N-th epoch and always after the last; 0 = the last only (default 1)")
          .run_invariant(),
      integer("train.checkpoint_every", MEMBER(train.checkpoint_every), 1, "Write checkpoint.pt every N epochs.")
          .run_invariant(),
      integer("train.log_every", MEMBER(train.log_every), 1, "Steps between progress reads.").run_invariant(),
      device("train.device", MEMBER(train.device), "Where to train; auto = CUDA when available.")
          .flag("device", kTrainingFlags, "auto, cpu, cuda or cuda:N (default auto)")
          .run_invariant(),
      choice("train.amp", MEMBER(train.amp), "Mixed precision: bf16 on CPU or CUDA, fp16 on CUDA.")
          .flag("amp", kTrainingFlags, "mixed precision: off, bf16 (CPU or CUDA) or fp16 (CUDA, loss-scaled)"),
      bool_or_auto("train.channels_last", MEMBER(train.channels_last), "NHWC parameters and inputs; auto = the faster layout.")
          .flag("channels-last", kTrainingFlags,
                "NHWC parameters and inputs: on (the bare flag), off, or auto (the default: on for the CPU where the "
                "fused BN+ReLU kernels run, off elsewhere)")
          .implicit("on")
          .words({{"on", true}, {"off", false}, {"auto", "auto"}}),
      boolean("train.cuda_graph", MEMBER(train.cuda_graph), "Capture the training and test steps as CUDA graphs.")
          .switch_flag("cuda-graph", kTrainingFlags, "capture the training and test steps as CUDA graphs and replay them (CUDA)",
                       true),
      boolean("train.deterministic", MEMBER(train.deterministic), "Deterministic cuDNN algorithms.")
          .switch_flag("deterministic", kTrainingFlags, "deterministic cuDNN algorithms (cuDNN benchmark off)", true),
      integer("train.threads", MEMBER(train.threads), 0, "CPU intra-op threads; 0 = every core.")
          .flag("threads", kTrainingFlags, "CPU threads (default: every core, shared out between the ranks of a machine)")
          .run_invariant(),
      choice("train.batch_scope", MEMBER(train.batch_scope), "What batch_size counts with several ranks."),
      integer("train.bn_batch", MEMBER(train.bn_batch), 0, "Ghost BN: statistics over chunks of at most N images.")
          .flag("bn-batch", kTrainingFlags,
                "BN statistics over interleaved chunks of at most N images of each batch (ghost BN; default 0 = whole batch)"),

      seeds("seeds", MEMBER(seeds), "One run per seed.")
          .flag("seeds", kExperimentFlags, "seeds to run, e.g. 0-4 or 0,2,5 (one process per seed: --seeds k)")
          .run_invariant(),
      text("out", MEMBER(out), "Root folder of the run folders.", folder)
          .flag("out", kExperimentFlags, "root folder of run folders (default runs)")
          .run_invariant(),
      nullable_paper(),
      number("paper.mean", +[](ExperimentConfig& c) -> double& { return c.paper->mean; }, accuracy(),
             "The paper's mean accuracy in %.")
          .require("the paper's mean accuracy in %")
          .run_invariant(),
      number("paper.std", +[](ExperimentConfig& c) -> double& { return c.paper->std; }, at_least(0),
             "The paper's std; 0 if it gives none.")
          .run_invariant(),

      object("search", "What propnet search does (train ignores it); written when it differs from the defaults."),
      choice("search.method", MEMBER(search.method), "gates, greedy, random or exhaustive (docs/search.md).")
          .flag("method", kSearchFlags, "gates (default), greedy, random or exhaustive"),
      integer("search.keep", MEMBER(search.keep), 0, "Budget: sites to keep; 0 = not given.")
          .flag("keep", kSearchFlags, "budget: keep K of the searchable sites"),
      number("search.keep_fraction", MEMBER(search.keep_fraction), between(0, 1, false, false),
             "Budget: keep this fraction of the searchable sites (rounded); 0 = not given.")
          .flag("keep-fraction", kSearchFlags, "budget: keep this fraction of the searchable sites, e.g. 0.5"),
      integer("search.relu_budget", MEMBER(search.relu_budget), 0,
              "Budget: at most this many ReLU elements per image (gates, greedy); 0 = not given.")
          .flag("relu-budget", kSearchFlags, "budget: at most E ReLU elements per image (gates, greedy; info --sites counts them)"),
      integer("search.min_keep_per_stage", MEMBER(search.min_keep_per_stage), 0, "Sites every stage keeps at least.")
          .flag("min-keep-per-stage", kSearchFlags, "sites every stage keeps at least (default 1: no stage is entirely linear)"),
      seeds("search.seeds", MEMBER(search.seeds), "One search per seed, each in its own seed folder.")
          .flag("search-seeds", kSearchFlags, "search seeds, e.g. 0-2 (initial weights, batch order, random masks)")
          .run_invariant(),
      integer("search.count", MEMBER(search.count), 1, "random: masks drawn per seed.")
          .flag("count", kSearchFlags, "random: masks to draw per seed (default 8)"),
      integer("search.max", MEMBER(search.max), 1, "exhaustive: refused above this many masks.")
          .flag("max", kSearchFlags, "exhaustive: refuse budgets with more masks than this (default 256)"),
      number("search.warmup_fraction", MEMBER(search.warmup_fraction), between(0, 1, false, true),
             "gates: first epochs (this fraction, floored) with every ReLU kept."),
      number("search.freeze_fraction", MEMBER(search.freeze_fraction), between(0, 1, false, true),
             "gates: last epochs (this fraction, floored) with the mask fixed."),
      integer("search.score_every", MEMBER(search.score_every), 1, "gates: one validation score step per N training steps.")
          .flag("score-every", kSearchFlags, "gates: one validation score step per N training steps (default 4)"),
      integer("search.reselect_every", MEMBER(search.reselect_every), 0,
              "gates: training steps between mask reselections; 0 = a quarter epoch."),
      integer("search.score_batch", MEMBER(search.score_batch), 1, "gates, greedy: validation images per score batch."),
      number("search.beta", MEMBER(search.beta), between(0, 1, false, true), "gates: EMA factor of the scores per score step."),
      number("search.hysteresis", MEMBER(search.hysteresis), at_least(0),
             "gates: a removed site swaps in only if its score beats a kept one's by this x std(scores)."),
      integer("search.greedy_batches", MEMBER(search.greedy_batches), 1,
              "greedy: validation batches that measure each candidate removal."),
  };
}

#undef MEMBER

// Keys left out of the JSON: the mask and the variant replace each other; paper's keys live inside it.
void set_omissions(std::vector<Field>& table) {
  for (Field& f : table) {
    if (f.key.path == "network.variant") f.omitted = [](const ExperimentConfig& c) { return c.network.mask.keep.has_value(); };
    if (f.key.path == "network.relu_mask") f.omitted = [](const ExperimentConfig& c) { return !c.network.mask.keep; };
    if (parent_of(f.key.path) == "paper") f.omitted = [](const ExperimentConfig& c) { return !c.paper.has_value(); };
    if (f.key.path == "search") f.omitted = [](const ExperimentConfig& c) { return c.search == SearchSpec{}; };
  }
}

}  // namespace

const std::vector<Field>& fields() {
  static const std::vector<Field> table = [] {
    std::vector<Field> t = make_table();
    set_omissions(t);
    const ExperimentConfig defaults;
    for (Field& f : t) {
      if (!f.is_object() && f.required.empty() && parent_of(f.key.path) != "paper") {
        f.key.default_json = f.value(defaults).dump();
      }
    }
    for (Field& f : t) {
      if (f.key.path == "paper") f.key.default_json = "null";
      if (f.key.path == "paper.std") f.key.default_json = "0";
    }
    return t;
  }();
  return table;
}

const Field* find_field(const std::string& path) {
  for (const Field& f : fields()) {
    if (f.key.path == path) return &f;
  }
  return nullptr;
}

std::vector<const Field*> fields_in(const std::string& object) {
  std::vector<const Field*> found;
  for (const Field& f : fields()) {
    if (parent_of(f.key.path) == object) found.push_back(&f);
  }
  return found;
}

std::string parent_of(const std::string& path) {
  const auto dot = path.rfind('.');
  return dot == std::string::npos ? "" : path.substr(0, dot);
}

std::string leaf_of(const std::string& path) {
  const auto dot = path.rfind('.');
  return dot == std::string::npos ? path : path.substr(dot + 1);
}

}  // namespace propnet::config_detail

namespace propnet {

const std::vector<ConfigKey>& config_keys() {
  static const std::vector<ConfigKey> keys = [] {
    std::vector<ConfigKey> out;
    for (const auto& f : config_detail::fields()) out.push_back(f.key);
    return out;
  }();
  return keys;
}

}  // namespace propnet
