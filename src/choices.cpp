// The spelling of every choice enum: the one place configs, flags, messages and pretty-printing take them from.
#include <propnet/choices.h>

#include <c10/util/Exception.h>

#include <propnet/config.h>
#include <propnet/data/dataset_kind.h>
#include <propnet/models/network_spec.h>

namespace propnet {

void throw_unspelled_value(int value) {
  TORCH_CHECK_VALUE(false, "expected a value of the enum's table (got the integer ", value, ")");
}

template <>
const Spellings<Amp>& spellings<Amp>() {
  static const Spellings<Amp> table{{Amp::kOff, "off"}, {Amp::kBf16, "bf16"}, {Amp::kFp16, "fp16"}};
  return table;
}

template <>
const Spellings<BatchScope>& spellings<BatchScope>() {
  static const Spellings<BatchScope> table{{BatchScope::kGlobal, "global"}, {BatchScope::kRank, "rank"}};
  return table;
}

template <>
const Spellings<Shortcut>& spellings<Shortcut>() {
  static const Spellings<Shortcut> table{{Shortcut::kA, "A"}, {Shortcut::kB, "B"}};
  return table;
}

template <>
const Spellings<BottleneckStride>& spellings<BottleneckStride>() {
  static const Spellings<BottleneckStride> table{{BottleneckStride::kFirst1x1, "first-1x1"},
                                                 {BottleneckStride::kConv3x3, "3x3"}};
  return table;
}

template <>
const Spellings<FinalMerge>& spellings<FinalMerge>() {
  static const Spellings<FinalMerge> table{{FinalMerge::kSum, "sum"}, {FinalMerge::kDoubleMerge, "double"}};
  return table;
}

template <>
const Spellings<ConvInit>& spellings<ConvInit>() {
  static const Spellings<ConvInit> table{{ConvInit::kFanIn, "fan-in"}, {ConvInit::kFanOut, "fan-out"}};
  return table;
}

template <>
const Spellings<SearchMethod>& spellings<SearchMethod>() {
  static const Spellings<SearchMethod> table{{SearchMethod::kGates, "gates"},
                                             {SearchMethod::kGreedy, "greedy"},
                                             {SearchMethod::kRandom, "random"},
                                             {SearchMethod::kExhaustive, "exhaustive"}};
  return table;
}

template <>
const Spellings<models::PlainIndexing>& spellings<models::PlainIndexing>() {
  static const Spellings<models::PlainIndexing> table{{models::PlainIndexing::kGlobal, "global"},
                                                      {models::PlainIndexing::kPerStage, "per-stage"}};
  return table;
}

template <>
const Spellings<data::DatasetKind>& spellings<data::DatasetKind>() {
  static const Spellings<data::DatasetKind> table{{data::DatasetKind::kCifar10, "cifar10"},
                                                  {data::DatasetKind::kCifar100, "cifar100"},
                                                  {data::DatasetKind::kFashionMnist, "fashion-mnist"}};
  return table;
}

}  // namespace propnet
