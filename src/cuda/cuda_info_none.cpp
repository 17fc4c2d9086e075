#include "cuda_info.h"

namespace propnet::detail {

bool cuda_compiled() { return false; }

std::vector<std::string> cuda_device_names() { return {}; }

}  // namespace propnet::detail
