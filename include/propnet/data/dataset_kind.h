#pragma once
// Which data set: an enum and the two facts a network needs from it, without the data headers.
#include <cstdint>

namespace propnet::data {

/// The data sets propnet reads (spelled "cifar10", "cifar100", "fashion-mnist": propnet/choices.h).
enum class DatasetKind {
  kCifar10,
  kCifar100,
  kFashionMnist,  ///< 28x28 grey images, zero-padded to 32x32.
};

/// Classes of a data set: 10, or 100 for CIFAR-100 (20 with its coarse labels).
int64_t classes_of(DatasetKind kind, bool coarse_labels = false);
/// Image channels: 3, or 1 for Fashion-MNIST.
int64_t channels_of(DatasetKind kind);

}  // namespace propnet::data
