#include "host_upload.h"

#include <atomic>

namespace propnet::data::detail {
namespace {
std::atomic<int64_t> uploads{0};
}  // namespace

at::Tensor upload(const at::Tensor& host, const c10::Device& device) {
  uploads.fetch_add(1, std::memory_order_relaxed);
  if (!device.is_cuda()) return host.to(device);
  return host.pin_memory().to(host.options().device(device), /*non_blocking=*/true);
}

int64_t upload_count() { return uploads.load(std::memory_order_relaxed); }

}  // namespace propnet::data::detail
