#include <propnet/models/network.h>

#include <torch/nn/modules/container/sequential.h>

#include <propnet/models/registry.h>
#include <propnet/nn/init.h>

#include "builders.h"

namespace propnet::models {

NetworkImpl::NetworkImpl(NetworkSpec spec) : spec_(std::move(spec)) { reset(); }

void NetworkImpl::reset() {
  parts_.clear();  // clone() copies these handles first; rebuilding keeps clones independent
  torch::nn::Sequential layers = detail::build_layers(spec_);
  const auto names = layers->named_children().keys();
  size_t index = 0;
  for (const torch::nn::AnyModule& part : *layers) {
    register_module(names.at(index++), part.ptr());
    parts_.push_back(part);
  }
  init_parameters(*this, spec_.options.conv_init);
}

torch::Tensor NetworkImpl::forward(torch::Tensor x) {
  for (auto& part : parts_) x = part.forward(x);
  return x;
}

void NetworkImpl::pretty_print(std::ostream& stream) const {
  stream << "propnet::Network(" << spec_.arch << ", depth=" << spec_.depth
         << ", relu_mask=" << describe_mask(spec_).relu_mask << ", classes=" << spec_.num_classes << ")";
}

}  // namespace propnet::models
