#include "gradient_sync.h"

#include <ATen/core/grad_mode.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/zeros.h>
#include <c10/util/Exception.h>

namespace propnet::train::detail {

GradientSync::GradientSync(std::shared_ptr<dist::Group> group, std::vector<at::Tensor> gradients,
                           int64_t bucket_bytes)
    : group_(std::move(group)), gradients_(std::move(gradients)) {
  TORCH_CHECK_VALUE(group_ != nullptr, "GradientSync: expected a process group (got none)");
  TORCH_CHECK_VALUE(!gradients_.empty(), "GradientSync: expected gradients (got none)");
  for (const auto& g : gradients_) {
    TORCH_CHECK_VALUE(g.scalar_type() == gradients_.front().scalar_type() && g.device() == gradients_.front().device(),
                      "GradientSync: expected gradients of one dtype and device (got ", g.scalar_type(), " on ",
                      g.device().str(), " beside ", gradients_.front().scalar_type(), " on ",
                      gradients_.front().device().str(), ")");
  }
  size_t begin = 0;
  int64_t bytes = 0;
  for (size_t i = 0; i < gradients_.size(); ++i) {
    bytes += gradients_[i].numel() * static_cast<int64_t>(gradients_[i].element_size());
    if (bytes >= bucket_bytes || i + 1 == gradients_.size()) {
      buckets_.emplace_back(begin, i + 1);
      begin = i + 1;
      bytes = 0;
    }
  }
  flag_ = at::zeros({1}, gradients_.front().options());
  summed_flag_ = at::zeros({1}, gradients_.front().options());
}

void GradientSync::set_stop_flag(bool stop) { flag_.fill_(stop ? 1.0 : 0.0); }

void GradientSync::run() {
  at::NoGradGuard no_grad;
  const double inverse_world = 1.0 / static_cast<double>(group_->world_size());
  for (size_t b = 0; b < buckets_.size(); ++b) {
    const auto [begin, end] = buckets_[b];
    const bool last = b + 1 == buckets_.size();
    std::vector<at::Tensor> views;
    views.reserve(end - begin + 1);
    for (size_t i = begin; i < end; ++i) views.push_back(gradients_[i].reshape(-1));
    if (last) views.push_back(flag_);
    at::Tensor flat = at::cat(views);
    group_->allreduce_sum(flat);
    flat.mul_(inverse_world);  // the mean; the flag stays > 0 when any rank set it
    int64_t offset = 0;
    for (size_t i = begin; i < end; ++i) {
      at::Tensor& g = gradients_[i];
      g.copy_(flat.narrow(0, offset, g.numel()).view(g.sizes()));
      offset += g.numel();
    }
    if (last) summed_flag_.copy_(flat.narrow(0, offset, 1));
  }
}

bool GradientSync::any_stop() const { return summed_flag_.item<double>() > 0; }

}  // namespace propnet::train::detail
