// How the architecture switches are spelled in configs, flags and messages (propnet/choices.h).
#include <propnet/choices.h>
#include <propnet/nn/switches.h>

namespace propnet {

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

}  // namespace propnet
