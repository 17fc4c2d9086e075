// Compiled only where LibTorch's ProcessGroupGloo.hpp compiles (PROPNET_WITH_GLOO): Debian's
// LibTorch 1.13 with libgloo-dev. The PyPI wheel ships no gloo headers: gloo_backend_none.cpp.
#include <cstdlib>

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>

#include "backend.h"

namespace propnet::dist {

bool gloo_available() { return true; }

c10::intrusive_ptr<BackendBase> make_gloo_backend(const c10::intrusive_ptr<c10d::Store>& store, int rank, int world,
                                                  std::chrono::milliseconds timeout, const std::string& master_addr) {
  auto options = c10d::ProcessGroupGloo::Options::create(timeout);
  if (const char* interface = std::getenv("GLOO_SOCKET_IFNAME"); interface != nullptr && *interface != '\0') {
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(interface));
  } else if (master_addr == "localhost" || master_addr.rfind("127.", 0) == 0 || master_addr == "::1") {
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(master_addr));  // one machine
  } else {
    options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  }
  return c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world, options);
}

}  // namespace propnet::dist
