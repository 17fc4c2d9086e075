// CPU-only builds: no NCCL. Group::create refuses CUDA groups before this is reached.
#include <c10/util/Exception.h>

#include "backend.h"

namespace propnet::dist {

bool nccl_available() { return false; }

c10::intrusive_ptr<BackendBase> make_nccl_backend(const c10::intrusive_ptr<c10d::Store>&, int, int,
                                                  std::chrono::milliseconds, int) {
  TORCH_CHECK_VALUE(false, "dist: expected a CUDA build for NCCL (got a CPU-only build)");
}

void shutdown_nccl_backend(BackendBase&) noexcept {}

}  // namespace propnet::dist
