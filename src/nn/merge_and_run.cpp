#include <propnet/nn/merge_and_run.h>

#include <ATen/ops/cat.h>
#include <c10/util/Exception.h>

#include "layers.h"
#include "ops.h"

namespace propnet {
namespace {
constexpr int64_t kBranch1Mid = 0, kBranch1AfterAdd = 1, kBranch2Mid = 2, kBranch2AfterAdd = 3;
}  // namespace

MergeAndRunOptions::MergeAndRunOptions(int64_t in_channels, int64_t out_channels, ReluMask relu_mask)
    : in_channels_(in_channels), out_channels_(out_channels), relu_mask_(std::move(relu_mask)) {}

MergeAndRunImpl::MergeAndRunImpl(MergeAndRunOptions options_) : options(std::move(options_)) { reset(); }

const std::vector<std::string>& MergeAndRunImpl::relu_sites() {
  static const std::vector<std::string> sites{"branch1_mid", "branch1_after_add", "branch2_mid",
                                              "branch2_after_add"};
  return sites;
}

void MergeAndRunImpl::reset() {
  detail::check_mask("MergeAndRun", relu_sites(), options.relu_mask());
  const int64_t in = options.in_channels(), out = options.out_channels(), stride = options.stride();
  TORCH_CHECK_VALUE(stride >= 1, "MergeAndRun: expected stride >= 1 (got ", stride, ")");
  const double eps = options.bn_eps(), momentum = options.bn_momentum();
  const bool projects = in != out || stride != 1;
  for (int i = 0; i < 2; ++i) {
    const std::string prefix = "branch" + std::to_string(i + 1) + "_";
    conv_a_[i] = register_module(prefix + "conv1", detail::make_conv(in, out, 3, stride));
    bn_a_[i] = register_module(prefix + "bn1", detail::make_bn(out, eps, momentum));
    conv_b_[i] = register_module(prefix + "conv2", detail::make_conv(out, out, 3, 1));
    bn_b_[i] = register_module(prefix + "bn2", detail::make_bn(out, eps, momentum));
    proj_[i] = nullptr;
    proj_bn_[i] = nullptr;
    if (projects) {  // each branch has its own projection (fusenet `get_zero`)
      proj_[i] = register_module(prefix + "shortcut_conv", detail::make_conv(in, out, 1, stride));
      proj_bn_[i] = register_module(prefix + "shortcut_bn", detail::make_bn(out, eps, momentum));
    }
  }
}

const std::vector<std::string>& MergeAndRunImpl::merged_relu_sites() {
  static const std::vector<std::string> sites{"branch1_mid", "branch2_mid", "after_merge"};
  return sites;
}

ReluMask MergeAndRunImpl::merged_mask(const ReluMask& pattern) {
  return ReluMask({pattern.keeps(kBranch1Mid), pattern.keeps(kBranch2Mid),
                   pattern.keeps(kBranch1AfterAdd) || pattern.keeps(kBranch2AfterAdd)});
}

torch::Tensor MergeAndRunImpl::branch(int index, const torch::Tensor& x) {
  const detail::Site mid = detail::site(this, relu_sites(), options.relu_mask(), index == 0 ? kBranch1Mid : kBranch2Mid);
  const torch::Tensor r = detail::bn_relu(*bn_a_[index], detail::conv(*conv_a_[index], x), mid);
  return detail::bn(*bn_b_[index], detail::conv(*conv_b_[index], r));
}

torch::Tensor MergeAndRunImpl::project(int index, const torch::Tensor& x) {
  return proj_[index] ? detail::bn(*proj_bn_[index], detail::conv(*proj_[index], x)) : x;
}

MergeAndRunImpl::Parts MergeAndRunImpl::run_branches(const torch::Tensor& x1, const torch::Tensor& x2) {
  TORCH_CHECK(x1.sizes() == x2.sizes(), "MergeAndRun: expected both branches to have the same shape (got ",
              x1.sizes(), " and ", x2.sizes(), ")");
  // Identical inputs (stage 1, block 1) share the projection result: M = P(x0).
  const torch::Tensor merged = (project(0, x1) + project(1, x2)) * 0.5;
  return {merged, branch(0, x1), branch(1, x2)};
}

std::tuple<torch::Tensor, torch::Tensor> MergeAndRunImpl::forward(const torch::Tensor& x1,
                                                                  const torch::Tensor& x2) {
  const Parts parts = run_branches(x1, x2);
  const ReluMask& mask = options.relu_mask();
  const torch::Tensor y1 = detail::relu(parts.merged + parts.residual1, detail::site(this, relu_sites(), mask, kBranch1AfterAdd));
  const torch::Tensor y2 = detail::relu(parts.merged + parts.residual2, detail::site(this, relu_sites(), mask, kBranch2AfterAdd));
  return {y1, y2};
}

torch::Tensor MergeAndRunImpl::forward_merged(const torch::Tensor& x1, const torch::Tensor& x2) {
  const Parts parts = run_branches(x1, x2);
  const double weight = options.final_merge() == FinalMerge::kSum ? 1.0 : 2.0;
  torch::Tensor y = parts.merged * weight + parts.residual1 + parts.residual2;
  const ReluMask& mask = options.relu_mask();
  const bool keep = mask.keeps(kBranch1AfterAdd) || mask.keeps(kBranch2AfterAdd);
  return detail::relu(y, detail::Site{this, merged_relu_sites()[2], keep});
}

void MergeAndRunImpl::pretty_print(std::ostream& stream) const {
  stream << "propnet::MergeAndRun(" << options.in_channels() << ", " << options.out_channels()
         << ", relu_mask=" << options.relu_mask() << ", stride=" << options.stride() << ")";
}

MergeAndRunStageOptions::MergeAndRunStageOptions(int64_t in_channels, int64_t out_channels, int64_t blocks,
                                                 ReluMask relu_mask)
    : in_channels_(in_channels), out_channels_(out_channels), blocks_(blocks), relu_mask_(std::move(relu_mask)) {}

MergeAndRunStageImpl::MergeAndRunStageImpl(MergeAndRunStageOptions options_) : options(std::move(options_)) {
  reset();
}

int64_t MergeAndRunStageOptions::sites() const {
  constexpr int64_t kSites = 4, kMergedSites = 3;
  return kSites * blocks() - (merge_at_end() ? kSites - kMergedSites : 0);
}

ReluMask MergeAndRunStageImpl::block_mask(int64_t block) const {
  const ReluMask& mask = options.relu_mask();
  if (mask.units() == 4) return mask;  // one block pattern for every block
  const bool merged = options.merge_at_end() && block == options.blocks() - 1;
  if (!merged) return mask.slice(4 * block, 4);
  // The merging block's sites (branch1_mid, branch2_mid, after_merge) as its 4-site mask: its one
  // ReLU after the merge runs when either after-add site is kept.
  const ReluMask sites = mask.slice(4 * block, 3);
  return ReluMask({sites.keeps(0), sites.keeps(2), sites.keeps(1), sites.keeps(2)});
}

void MergeAndRunStageImpl::reset() {
  TORCH_CHECK_VALUE(options.blocks() >= 1, "MergeAndRunStage: expected at least one block (got ",
                    options.blocks(), ")");
  const int64_t sites = options.relu_mask().units();
  TORCH_CHECK_VALUE(sites == 4 || sites == options.sites(), "MergeAndRunStage: expected a relu_mask of 4 sites ",
                    detail::join_sites(MergeAndRunImpl::relu_sites()), " for every block, or ", options.sites(),
                    " sites, one per site of its ", options.blocks(), " blocks (got ", sites, ")");
  blocks_.clear();
  for (int64_t i = 0; i < options.blocks(); ++i) {
    auto block_options = MergeAndRunOptions(i == 0 ? options.in_channels() : options.out_channels(),
                                            options.out_channels(), block_mask(i))
                             .stride(i == 0 ? options.stride() : 1)
                             .final_merge(options.final_merge())
                             .bn_eps(options.bn_eps())
                             .bn_momentum(options.bn_momentum());
    blocks_.push_back(register_module(std::to_string(i), MergeAndRun(block_options)));
  }
}

torch::Tensor MergeAndRunStageImpl::forward(const torch::Tensor& x) {
  const int64_t expected = options.shared_input() ? options.in_channels() : 2 * options.in_channels();
  TORCH_CHECK(x.dim() == 4 && x.size(1) == expected, "MergeAndRunStage: expected input of shape (B, ", expected,
              ", H, W) (got ", x.sizes(), ")");
  torch::Tensor x1 = x, x2 = x;
  if (!options.shared_input()) {
    auto halves = x.chunk(2, 1);
    x1 = halves[0];
    x2 = halves[1];
  }
  const size_t last = blocks_.size() - 1;
  for (size_t i = 0; i < last; ++i) std::tie(x1, x2) = blocks_[i]->forward(x1, x2);
  if (options.merge_at_end()) return blocks_[last]->forward_merged(x1, x2);
  std::tie(x1, x2) = blocks_[last]->forward(x1, x2);
  return at::cat({x1, x2}, 1);
}

void MergeAndRunStageImpl::pretty_print(std::ostream& stream) const {
  stream << "propnet::MergeAndRunStage(" << options.in_channels() << ", " << options.out_channels()
         << ", blocks=" << options.blocks() << ", relu_mask=" << options.relu_mask()
         << ", stride=" << options.stride() << ")";
}

}  // namespace propnet
