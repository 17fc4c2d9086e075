#pragma once
// Which data set: an enum and the facts about each that need no files (one table, `dataset_facts()`,
// which `propnet data --list --json` exports), without the data headers.
#include <cstdint>
#include <vector>

namespace propnet::data {

/// The data sets propnet reads (spelled "cifar10", "cifar100", "fashion-mnist": propnet/choices.h).
enum class DatasetKind {
  kCifar10,
  kCifar100,
  kFashionMnist,  ///< 28x28 grey images, zero-padded to 32x32.
};

/// What is known of a data set before reading it: one row of `dataset_facts()`.
struct DatasetFacts {
  DatasetKind kind;
  const char* title;           ///< As printed: "CIFAR-10".
  int64_t classes;             ///< Of its (fine) labels.
  int64_t coarse_classes;      ///< Of its coarse labels; 0 when it has none.
  int64_t channels;            ///< Image channels the networks see.
  int64_t image_size;          ///< Side of the square images the networks see (Fashion-MNIST: padded).
  int64_t train_images;        ///< The official training split.
  int64_t test_images;         ///< The official test split.
  const char* default_dir;     ///< Folder searched when none is given; "" when there is none.
};

/// Every data set propnet reads, in `DatasetKind` order.
const std::vector<DatasetFacts>& dataset_facts();
/// The row of `kind`.
const DatasetFacts& facts_of(DatasetKind kind);

/// Classes of a data set: 10, or 100 for CIFAR-100 (20 with its coarse labels).
int64_t classes_of(DatasetKind kind, bool coarse_labels = false);
/// Image channels: 3, or 1 for Fashion-MNIST.
int64_t channels_of(DatasetKind kind);

}  // namespace propnet::data
