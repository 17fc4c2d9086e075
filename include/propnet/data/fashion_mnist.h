#pragma once
#include <cstdint>
#include <string>

#include <propnet/data/dataset.h>

namespace propnet::data {

/// Where Debian's dataset-fashion-mnist package installs the four IDX files.
constexpr const char* kFashionMnistDefaultDir = "/usr/share/datasets/fashion-mnist";
/// Official split sizes of Fashion-MNIST (and MNIST).
constexpr int64_t kMnistTrainImages = 60000;
constexpr int64_t kMnistTestImages = 10000;
/// Side the 28x28 images are zero-padded to (2 px each side), so the CIFAR networks apply unchanged.
constexpr int64_t kMnistPaddedSize = 32;
/// Mean and std of Fashion-MNIST's 60,000 training images after zero-padding to 32x32, on the
/// 0-255 scale. Computed with `propnet data --dataset fashion-mnist --json` (compute_stats: float64
/// sums over all 60,000 x 1,024 padded pixels, population std) from the Debian package
/// dataset-fashion-mnist's train-images-idx3-ubyte.gz: mean 55.84496, std 84.61190. The padding
/// lowers both: the unpadded 28x28 pixels of the same file have mean 72.94 and std 90.02.
constexpr double kFashionMnistMean = 55.8450;
constexpr double kFashionMnistStd = 84.6119;

/// Reads an IDX image file (magic 0x00000803; gzip-compressed or plain): uint8 (N, 1, rows, cols).
/// `expected_count` >= 0 also checks N.
torch::Tensor read_idx_images(const std::string& path, int64_t expected_count = -1);

/// Reads an IDX label file (magic 0x00000801; gzip-compressed or plain): int64 (N).
torch::Tensor read_idx_labels(const std::string& path, int64_t expected_count = -1);

/// Zero-pads uint8 (N, C, h, w) images to (N, C, size, size), centred.
torch::Tensor pad_images(const torch::Tensor& images, int64_t size);

/// Loads Fashion-MNIST from `dir` (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz],
/// t10k-...), checking magic numbers, 28x28 images, the official counts and that images and
/// labels agree; images are zero-padded to 1x32x32.
/// `test_split` false: the t10k files are not read (nor required), and `test` stays empty.
Dataset load_fashion_mnist(const std::string& dir, bool test_split = true);

}  // namespace propnet::data
