#include <propnet/models/summary.h>

#include <ATen/ops/zeros.h>
#include <c10/util/Exception.h>
#include <torch/nn/modules/conv.h>
#include <torch/utils.h>

#include <propnet/models/registry.h>
#include <propnet/nn/op_counter.h>

namespace propnet::models {

int64_t count_parameters(const torch::nn::Module& module) {
  int64_t total = 0;
  for (const auto& p : module.parameters()) {
    if (p.requires_grad()) total += p.numel();
  }
  return total;
}

NetworkSummary summarize(const NetworkSpec& spec, int64_t input_size) {
  TORCH_CHECK_VALUE(input_size >= 8, "summarize: expected an input size >= 8 (got ", input_size, ")");
  Network net = build_network(spec);
  const MaskDescription mask = describe_mask(spec);

  NetworkSummary s;
  s.arch = spec.arch;
  s.depth = spec.depth;
  s.num_classes = spec.num_classes;
  s.in_channels = spec.in_channels;
  s.variant = mask.variant;
  s.relu_mask = mask.relu_mask;
  s.ratio = mask.ratio;
  s.blocks_per_stage = stage_blocks(spec);
  s.params = count_parameters(*net);
  s.input_size = input_size;

  s.sites = net->relu_sites(input_size);
  for (const auto& item : net->named_modules()) {
    const std::string& name = item.key();
    if (item.value()->as<torch::nn::Conv2d>() == nullptr || name.find("shortcut") != std::string::npos) continue;
    for (int stage = 0; stage < 3; ++stage) {
      if (name.rfind("stage" + std::to_string(stage + 1) + ".", 0) == 0) ++s.stage_convs[stage];
    }
  }
  net->eval();
  torch::NoGradGuard no_grad;
  CountingScope scope;
  net->forward(at::zeros({1, spec.in_channels, input_size, input_size}));
  s.convs = scope.counts().convs;
  s.relus = scope.counts().relus;
  s.macs = scope.counts().macs;
  return s;
}

}  // namespace propnet::models
