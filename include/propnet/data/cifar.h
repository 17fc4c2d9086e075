#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <propnet/data/dataset.h>

namespace propnet::data {

/// Which CIFAR (spec §8.1).
enum class Cifar { k10, k100 };

/// Which CIFAR-100 label a record yields.
enum class CifarLabel { kFine, kCoarse };

/// Bytes of one image in the official binary version: 3 planes (R, G, B) of 32x32, row-major.
constexpr int64_t kCifarImageBytes = 3 * 32 * 32;
/// Records per file: data_batch_N.bin / test_batch.bin (CIFAR-10), test.bin (CIFAR-100).
constexpr int64_t kCifarRecordsPerBatch = 10000;
/// Records in CIFAR-100's train.bin; CIFAR-10 spreads its 50,000 over data_batch_1..5.bin.
constexpr int64_t kCifarTrainRecords = 50000;
/// Mean and std (R, G, B; 0-255 scale) from fusenet's options.py (spec §8.2).
constexpr double kCifar10Mean[3] = {125.307, 122.950, 113.865};
constexpr double kCifar10Std[3] = {62.993, 62.089, 66.705};
constexpr double kCifar100Mean[3] = {129.304, 124.070, 112.434};
constexpr double kCifar100Std[3] = {68.170, 65.392, 70.418};

/// Bytes of one record: 1 label byte (CIFAR-10) or coarse + fine label bytes (CIFAR-100), then pixels.
int64_t cifar_record_bytes(Cifar which);

/// Reads one official binary file holding exactly `expected_records` records: images uint8
/// (N, 3, 32, 32), labels int64 (N). The file must be exactly `expected_records` records long.
Split read_cifar_file(const std::string& path, Cifar which, int64_t expected_records,
                      CifarLabel label = CifarLabel::kFine);

/// The folder holding the binary files: `dir` itself, or `dir/cifar-10-batches-bin`
/// (`dir/cifar-100-binary`) when `dir` is the parent. Throws, naming both, if neither holds them.
std::string find_cifar_dir(const std::string& dir, Cifar which);

/// Loads the official binary version with its official counts (50,000 train, 10,000 test),
/// class names from batches.meta.txt / fine_label_names.txt / coarse_label_names.txt when present.
/// `test_split` false: the test file is not read (nor required), and `test` stays empty.
Dataset load_cifar(const std::string& dir, Cifar which, CifarLabel label = CifarLabel::kFine, bool test_split = true);

/// Non-empty lines of a class-names file (trailing whitespace trimmed); empty if the file is absent.
std::vector<std::string> read_class_names(const std::string& path);

}  // namespace propnet::data
