#pragma once
// Synthetic images whose every pixel tells where it came from, for reader and pipeline tests.
#include <cstdint>

#include <torch/types.h>

namespace propnet::data {

// Pixel of record r, channel c, row y, column x: differs per channel and position.
inline uint8_t pattern(int64_t r, int64_t c, int64_t y, int64_t x) {
  return static_cast<uint8_t>((r * 7 + c * 50 + y * 3 + x * 5) % 256);
}

inline torch::Tensor pattern_images(int64_t n, int64_t channels, int64_t size, int64_t first = 0) {
  torch::Tensor t = torch::empty({n, channels, size, size}, torch::kByte);
  auto a = t.accessor<uint8_t, 4>();
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t y = 0; y < size; ++y)
        for (int64_t x = 0; x < size; ++x) a[r][c][y][x] = pattern(first + r, c, y, x);
  return t;
}

}  // namespace propnet::data
