#pragma once
// The architecture switches of the spec (§10) as enums, apart from the modules that read them, so
// that specs and configs can name them without the modules' headers. Spelled in configs as
// propnet/choices.h says.

namespace propnet {

/// How a pre-activation building block matches shapes when they change (spec §4.1).
enum class Shortcut {
  kA,  ///< Stride-2 subsampling plus zero channels (He's CIFAR "option A"; the default).
  kB,  ///< conv1x1(stride) without BN, fed from the shared pre-activation.
};

/// Which conv of a downsampling bottleneck carries the stride (spec §4.1).
enum class BottleneckStride {
  kFirst1x1,  ///< He's official CIFAR code (`resnet-pre-act.lua`); the default.
  kConv3x3,   ///< fb.resnet.torch's generic bottleneck.
};

/// How the last merge-and-run block of a network merges its two branches into one tensor (spec §3.4).
enum class FinalMerge {
  kSum,          ///< ReLU(M + D1 + D2): fusenet HEAD; the default.
  kDoubleMerge,  ///< ReLU(2M + D1 + D2): fusenet's first commit.
};

/// Fan mode of the MSRA (He) normal init of conv weights.
enum class ConvInit {
  kFanIn,   ///< N(0, sqrt(2 / (C_in k k))): fusenet's MXNet Xavier(gaussian, 'in', 2), spec §6; the default.
  kFanOut,  ///< N(0, sqrt(2 / (C_out k k))): He's Torch code (spec §4.1).
};

}  // namespace propnet
