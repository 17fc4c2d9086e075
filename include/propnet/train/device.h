#pragma once
#include <string>

#include <c10/core/Device.h>

namespace propnet::train {

/// "auto" (CUDA when available, else CPU), "cpu", "cuda" or "cuda:N". Throws c10::ValueError for
/// other text, and when CUDA is asked for but this LibTorch has no CUDA or no device is visible.
c10::Device resolve_device(const std::string& text);

}  // namespace propnet::train
