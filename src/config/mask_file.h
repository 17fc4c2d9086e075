#pragma once
// Reading a config's mask file into its network's keep-bits (the config edge; networks never read files).
#include <string>

#include <propnet/models/network_spec.h>

namespace propnet::config_detail {

/// The keep-bits in `path` (propnet::read_relu_mask_file's formats) for `network`. Throws
/// c10::ValueError naming the file when it holds no mask, not bits, or several whole masks, one per
/// line (a search's masks.txt), with how to pick one.
ReluMask read_network_mask_file(const std::string& path, const models::NetworkSpec& network);

}  // namespace propnet::config_detail
