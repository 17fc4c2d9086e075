#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <torch/arg.h>
#include <torch/types.h>

#include <propnet/data/dataset_kind.h>

namespace propnet::data {


/// One split of a data set, held once in memory (and moved once to the training device).
///
/// `images` is uint8 (N, C, H, W), raw 0-255 pixels, contiguous; `labels` is int64 (N).
struct Split {
  torch::Tensor images;
  torch::Tensor labels;

  /// N, the number of images.
  int64_t size() const;
  /// A copy of both tensors on `device` (a no-op when they are there already).
  Split to(torch::Device device) const;
  /// The first `n` images (views, no copy); the whole split when `n` is 0 or >= size() (the
  /// `subset` / `test_subset` config keys).
  Split head(int64_t n) const;
  /// The last `n` images (views, no copy); empty when `n` is 0.
  Split tail(int64_t n) const;
};

/// A loaded data set: both splits, class names and the per-channel normalization constants.
struct Dataset {
  /// Registry key: "cifar10", "cifar100" or "fashion-mnist".
  std::string name;
  Split train;
  Split test;
  /// Held-out training images, evaluated after every epoch (`data.val_split`); empty when none.
  /// Never test images: `hold_out_validation` takes them from the end of `train`.
  Split val;
  /// Class names in label order; "0", "1", ... when the names file is absent.
  std::vector<std::string> classes;
  /// 3 for CIFAR; 1 for Fashion-MNIST.
  int64_t channels = 0;
  /// Per-channel mean and std on the 0-255 scale, used by `Normalizer` (spec §8.2).
  std::vector<double> mean;
  std::vector<double> std;

  /// Number of classes (the classifier's width).
  int64_t num_classes() const { return static_cast<int64_t>(classes.size()); }
  /// A copy with both splits on `device`.
  Dataset to(torch::Device device) const;
};

/// Options for `load_dataset`.
struct DatasetOptions {
  /// CIFAR-100 only: use the 20 coarse labels instead of the 100 fine ones (spec §8.1).
  TORCH_ARG(bool, coarse_labels) = false;
  /// Device the images and labels are moved to once, after loading.
  TORCH_ARG(torch::Device, device) = torch::kCPU;
  /// Read the test split too. false leaves `test` empty and never opens its files: a search, which never reads
  /// the test set, then works on a folder that holds only the training files.
  TORCH_ARG(bool, test_split) = true;
};

/// `dataset` with its last `n` training images moved into `val` (0: unchanged). Throws
/// c10::ValueError unless at least one training image is left.
Dataset hold_out_validation(Dataset dataset, int64_t n);

/// Names `load_dataset` accepts: "cifar10", "cifar100", "fashion-mnist".
std::vector<std::string> dataset_names();

/// Folder searched when no data folder is given ("" for data sets without a default).
/// Fashion-MNIST: /usr/share/datasets/fashion-mnist (Debian package dataset-fashion-mnist).
std::string default_data_dir(DatasetKind kind);
std::string default_data_dir(const std::string& name);

/// Loads a data set from `dir` (for CIFAR the extracted folder or its parent; "" = its default
/// folder), validating the official file sizes and counts. Throws c10::ValueError for an unknown
/// name and c10::Error, naming the file and the fix, for missing or malformed files.
Dataset load_dataset(DatasetKind kind, const std::string& dir, const DatasetOptions& options = {});
Dataset load_dataset(const std::string& name, const std::string& dir, const DatasetOptions& options = {});

/// Per-split statistics of the raw 0-255 pixels, as `propnet data` prints them.
struct SplitStats {
  int64_t images = 0;
  std::vector<int64_t> shape;           ///< (C, H, W) of one image.
  std::vector<int64_t> class_counts;    ///< Images per label, for labels 0..num_classes-1.
  std::vector<double> mean;             ///< Per channel, 0-255 scale.
  std::vector<double> std;              ///< Per channel, population std, 0-255 scale.
};

/// Computes `SplitStats` in float64, in chunks (never a float copy of the whole split).
SplitStats compute_stats(const Split& split, int64_t num_classes);

}  // namespace propnet::data
