// Builds the paper's 2:1 pre-activation ResNet through the installed package and runs it once.
#include <iostream>

#include <propnet/propnet.h>

int main() {
  propnet::models::NetworkSpec spec;
  spec.arch = "preresnet";
  spec.depth = 20;
  spec.variant = "proportional";
  propnet::models::Network net = propnet::models::build_network(spec);
  const auto logits = net->forward(torch::randn({2, 3, 32, 32}));
  const auto summary = propnet::models::summarize(spec);
  std::cout << "propnet " << PROPNET_VERSION << ": " << spec.arch << "-" << spec.depth << " " << summary.ratio
            << ", " << summary.params << " params, logits " << logits.sizes() << "\n";
  return logits.sizes() == torch::IntArrayRef({2, 10}) && summary.ratio == "2:1" ? 0 : 1;
}
