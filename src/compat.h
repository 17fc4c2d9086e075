#pragma once
// The one place where LibTorch 1.13 (Debian) and 2.x (PyPI) differ for propnet.
#include <torch/version.h>

/// True when the LibTorch being compiled against is at least major.minor.
#define PROPNET_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))
