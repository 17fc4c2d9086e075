// Builds whose LibTorch headers do not compile ProcessGroupGloo.hpp (e.g. the PyPI wheel, which
// ships no gloo headers): Group::create refuses CPU groups before this is reached.
#include <c10/util/Exception.h>

#include "backend.h"

namespace propnet::dist {

bool gloo_available() { return false; }

c10::intrusive_ptr<BackendBase> make_gloo_backend(const c10::intrusive_ptr<c10d::Store>&, int, int,
                                                  std::chrono::milliseconds, const std::string&) {
  TORCH_CHECK_VALUE(false, "dist: expected a build with Gloo (got one without)");
}

}  // namespace propnet::dist
