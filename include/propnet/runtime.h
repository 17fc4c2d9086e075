#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace propnet {

/// What propnet was built against and what it can run on.
struct RuntimeInfo {
  std::string propnet_version;
  std::string torch_version;            ///< LibTorch's major.minor.patch.
  bool cuda_compiled = false;           ///< LibTorch (and propnet's CUDA sources) built with CUDA.
  std::vector<std::string> cuda_devices;  ///< "NVIDIA H100 80GB HBM3 (sm_90, 79 GiB)", one per device.
  int64_t threads = 0;                  ///< Intra-op CPU threads LibTorch uses now.
};

/// Probes the runtime; never throws, even on a machine without a GPU driver.
RuntimeInfo runtime_info();

/// Sets LibTorch's intra-op CPU threads: `requested` if > 0, else every core of this machine
/// (LibTorch may start with 1 where OMP_NUM_THREADS is unset). Returns the count in effect.
int64_t configure_threads(int64_t requested = 0);

}  // namespace propnet
