#include "cuda_info.h"

namespace propnet::detail {

bool cuda_compiled() { return false; }

std::vector<std::string> cuda_device_names() { return {}; }

void cuda_set_device(int) {}

void cuda_synchronize(int) {}

void cuda_reset_peak_memory(int) {}

int64_t cuda_peak_memory_bytes(int) { return 0; }

}  // namespace propnet::detail
