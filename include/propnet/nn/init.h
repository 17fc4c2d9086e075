#pragma once
#include <torch/nn/module.h>

namespace propnet {

/// Fan mode of the MSRA (He) normal init of conv weights.
enum class ConvInit {
  kFanIn,   ///< N(0, sqrt(2 / (C_in k k))): fusenet's MXNet Xavier(gaussian, 'in', 2), spec §6; the default.
  kFanOut,  ///< N(0, sqrt(2 / (C_out k k))): He's Torch code (spec §4.1).
};

/// Initialises every conv, BatchNorm and Linear under `module` as the paper's protocol does (spec §6):
/// MSRA-normal conv weights, BN gamma 1 and beta 0, FC weight U(+-1/sqrt(fan_in)) and FC bias 0.
void init_parameters(torch::nn::Module& module, ConvInit conv_init = ConvInit::kFanIn);

}  // namespace propnet
