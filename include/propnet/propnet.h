#pragma once
// Umbrella header for users; propnet's own sources include only what they need.

#include <propnet/version.h>
#include <propnet/runtime.h>

#include <propnet/nn/basic_block.h>
#include <propnet/nn/batch_norm_relu.h>
#include <propnet/nn/init.h>
#include <propnet/nn/merge_and_run.h>
#include <propnet/nn/op_counter.h>
#include <propnet/nn/preact_block.h>
#include <propnet/nn/preact_bottleneck.h>
#include <propnet/nn/proportional.h>
#include <propnet/nn/relu_mask.h>
#include <propnet/nn/residual_stage.h>
#include <propnet/nn/stem.h>

#include <propnet/models/depth.h>
#include <propnet/models/network.h>
#include <propnet/models/network_spec.h>
#include <propnet/models/registry.h>
#include <propnet/models/summary.h>

#include <propnet/data/cifar.h>
#include <propnet/data/dataset.h>
#include <propnet/data/epoch_order.h>
#include <propnet/data/fashion_mnist.h>
#include <propnet/data/transforms.h>
