// The git revision propnet was built from, taken at build time (cmake/git_revision.cmake): the only
// file a commit recompiles.
#include <string>

#include <propnet_git_revision.h>

namespace propnet::detail {

std::string git_revision() { return PROPNET_GIT_REVISION; }
bool git_dirty() { return PROPNET_GIT_DIRTY != 0; }

}  // namespace propnet::detail
