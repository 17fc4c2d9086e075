#pragma once
// Network specs by name, for the models tests.
#include <cstdint>
#include <string>

#include <propnet/models/network_spec.h>

namespace propnet::test {

inline models::NetworkSpec spec_of(const std::string& arch, int64_t depth, const std::string& variant = "paired") {
  models::NetworkSpec spec;
  spec.arch = arch;
  spec.depth = depth;
  spec.mask.variant = variant;
  return spec;
}

inline models::NetworkSpec spec_of(const std::string& arch, int64_t depth, int64_t classes, const std::string& variant = "paired") {
  models::NetworkSpec spec = spec_of(arch, depth, variant);
  spec.num_classes = classes;
  return spec;
}

}  // namespace propnet::test
