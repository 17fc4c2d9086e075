#pragma once
// The network the search tests run on: preresnet-8 for 4 toy classes, 6 sites, 2 per stage.
#include <cstdint>
#include <vector>

#include <propnet/models/network_spec.h>

namespace propnet::search::fixtures {

inline const std::vector<int64_t> kSixSites{1, 1, 2, 2, 3, 3};  // the stage of each site

inline models::NetworkSpec preresnet8() {
  models::NetworkSpec spec;
  spec.arch = "preresnet";
  spec.depth = 8;
  spec.num_classes = 4;
  return spec;
}

}  // namespace propnet::search::fixtures
