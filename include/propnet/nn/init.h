#pragma once
#include <torch/nn/module.h>

#include <propnet/nn/switches.h>

namespace propnet {


/// Initialises every conv, BatchNorm and Linear under `module` as the paper's protocol does (spec §6):
/// MSRA-normal conv weights, BN gamma 1 and beta 0, FC weight U(+-1/sqrt(fan_in)) and FC bias 0.
void init_parameters(torch::nn::Module& module, ConvInit conv_init = ConvInit::kFanIn);

}  // namespace propnet
