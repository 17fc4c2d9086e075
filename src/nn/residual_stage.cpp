#include <propnet/nn/residual_stage.h>

#include <c10/util/Exception.h>

#include <propnet/nn/basic_block.h>

#include "layers.h"

namespace propnet {

ResidualStageOptions::ResidualStageOptions(BlockType block, int64_t in_channels, int64_t out_channels,
                                           int64_t blocks, ReluMask relu_mask)
    : block_(block),
      in_channels_(in_channels),
      out_channels_(out_channels),
      blocks_(blocks),
      relu_mask_(std::move(relu_mask)) {}

ResidualStageImpl::ResidualStageImpl(ResidualStageOptions options_) : options(std::move(options_)) { reset(); }

const std::vector<std::string>& unit_sites(BlockType block) {
  switch (block) {
    case BlockType::kBasic: return BasicBlockImpl::relu_sites();
    case BlockType::kPreAct: return PreActBlockImpl::relu_sites();
    case BlockType::kPreActBottleneck: break;
  }
  return PreActBottleneckImpl::relu_sites();
}

void ResidualStageImpl::reset() {
  TORCH_CHECK_VALUE(options.blocks() >= 1, "ResidualStage: expected at least one block (got ", options.blocks(),
                    ")");
  const auto& o = options;
  const auto& names = unit_sites(o.block());
  const int64_t per_unit = static_cast<int64_t>(names.size()), sites = o.relu_mask().units();
  TORCH_CHECK_VALUE(sites == per_unit || sites == per_unit * o.blocks(), "ResidualStage: expected a relu_mask of ",
                    per_unit, " sites ", detail::join_sites(names), " for every unit, or ", per_unit * o.blocks(),
                    " sites, one per site of its ", o.blocks(), " units (got ", sites, ")");
  units_.clear();
  for (int64_t i = 0; i < o.blocks(); ++i) {
    const bool first = i == 0;
    const ReluMask mask = sites == per_unit ? o.relu_mask() : o.relu_mask().slice(i * per_unit, per_unit);
    const int64_t in = first ? o.in_channels() : o.out_channels();
    const int64_t stride = first ? o.stride() : 1;
    const std::string name = std::to_string(i);
    switch (o.block()) {
      case BlockType::kBasic:
        units_.emplace_back(register_module(
            name, BasicBlock(BasicBlockOptions(in, o.out_channels(), mask)
                                 .stride(stride)
                                 .bn_eps(o.bn_eps())
                                 .bn_momentum(o.bn_momentum()))));
        break;
      case BlockType::kPreAct:
        units_.emplace_back(register_module(
            name, PreActBlock(PreActBlockOptions(in, o.out_channels(), mask)
                                  .stride(stride)
                                  .shortcut(o.shortcut())
                                  .shared_preactivation(first && o.shared_preactivation())
                                  .shortcut_keeps_relu(o.shortcut_keeps_relu())
                                  .bn_eps(o.bn_eps())
                                  .bn_momentum(o.bn_momentum()))));
        break;
      case BlockType::kPreActBottleneck:
        units_.emplace_back(register_module(
            name, PreActBottleneck(PreActBottleneckOptions(in, o.out_channels(), mask)
                                       .stride(stride)
                                       .stride_on(o.bottleneck_stride())
                                       .shared_preactivation(first && o.shared_preactivation())
                                       .shortcut_keeps_relu(o.shortcut_keeps_relu())
                                       .bn_eps(o.bn_eps())
                                       .bn_momentum(o.bn_momentum()))));
        break;
    }
  }
}

torch::Tensor ResidualStageImpl::forward(torch::Tensor x) {
  for (auto& unit : units_) x = unit.forward(x);
  return x;
}

void ResidualStageImpl::pretty_print(std::ostream& stream) const {
  static constexpr const char* kNames[] = {"basic", "preact", "preact-bottleneck"};
  stream << "propnet::ResidualStage(kind=" << kNames[static_cast<int>(options.block())] << ", "
         << options.in_channels() << ", " << options.out_channels() << ", blocks=" << options.blocks()
         << ", relu_mask=" << options.relu_mask() << ", stride=" << options.stride() << ")";
}

}  // namespace propnet
