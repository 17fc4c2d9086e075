#include <propnet/nn/op_counter.h>

#include "ops.h"

#include <ATen/ops/relu.h>
#include <c10/util/Exception.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <propnet/nn/batch_norm_relu.h>

namespace propnet {
namespace {
thread_local OpCounts* active_counts = nullptr;
}  // namespace

CountingScope::CountingScope() : previous_(active_counts) {
  TORCH_CHECK(previous_ == nullptr, "CountingScope: scopes do not nest");
  active_counts = &counts_;
}

CountingScope::~CountingScope() { active_counts = previous_; }

namespace detail {

at::Tensor relu(const at::Tensor& x) {
  if (active_counts != nullptr) ++active_counts->relus;
  return at::relu(x);
}

at::Tensor bn_relu(torch::nn::BatchNorm2dImpl& bn, const at::Tensor& x, bool relu) {
  if (relu && active_counts != nullptr) ++active_counts->relus;
  return batch_norm_relu(bn, x, relu);
}

at::Tensor conv(torch::nn::Conv2dImpl& conv, const at::Tensor& x) {
  at::Tensor y = conv.forward(x);
  if (active_counts != nullptr) {
    const auto& options = conv.options;
    const auto kernel = options.kernel_size();
    const int64_t per_output = (options.in_channels() / options.groups()) * kernel->at(0) * kernel->at(1);
    ++active_counts->convs;
    active_counts->macs += per_output * (y.numel() / std::max<int64_t>(y.size(0), 1));
  }
  return y;
}

at::Tensor linear(torch::nn::LinearImpl& linear, const at::Tensor& x) {
  at::Tensor y = linear.forward(x);
  if (active_counts != nullptr) {
    active_counts->macs += linear.options.in_features() * linear.options.out_features();
  }
  return y;
}

}  // namespace detail
}  // namespace propnet
