#include <propnet/data/dataset.h>

#include <algorithm>
#include <cmath>

#include <c10/util/Exception.h>
#include <c10/util/StringUtil.h>

#include <propnet/choices.h>
#include <propnet/data/cifar.h>
#include <propnet/data/fashion_mnist.h>

namespace propnet::data {

int64_t Split::size() const { return images.defined() ? images.size(0) : 0; }

Split Split::to(torch::Device device) const { return {images.to(device), labels.to(device)}; }

Split Split::head(int64_t n) const {
  TORCH_CHECK_VALUE(n >= 0, "Split::head: expected n >= 0 (got ", n, ")");
  if (n == 0 || n >= size()) return *this;
  return {images.slice(0, 0, n), labels.slice(0, 0, n)};
}

Split Split::tail(int64_t n) const {
  TORCH_CHECK_VALUE(n >= 0 && n <= size(), "Split::tail: expected n in [0, ", size(), "] (got ", n, ")");
  return {images.slice(0, size() - n, size()), labels.slice(0, size() - n, size())};
}

Dataset Dataset::to(torch::Device device) const {
  Dataset moved = *this;
  moved.train = train.to(device);
  if (test.images.defined()) moved.test = test.to(device);  // absent when loaded without its test split
  if (val.images.defined()) moved.val = val.to(device);
  return moved;
}

Dataset hold_out_validation(Dataset dataset, int64_t n) {
  TORCH_CHECK_VALUE(n >= 0, "val_split: expected n >= 0 (got ", n, ")");
  if (n == 0) return dataset;
  const int64_t train = dataset.train.size();
  TORCH_CHECK_VALUE(n < train, "val_split: expected fewer than the ", train, " training images (got ", n, ")");
  dataset.val = dataset.train.tail(n);
  dataset.train = dataset.train.head(train - n);
  return dataset;
}

std::vector<std::string> dataset_names() { return spelling_list<DatasetKind>(); }

const std::vector<DatasetFacts>& dataset_facts() {
  static const std::vector<DatasetFacts> table = {
      {DatasetKind::kCifar10, "CIFAR-10", 10, 0, 3, 32, kCifarTrainRecords, kCifarRecordsPerBatch, ""},
      {DatasetKind::kCifar100, "CIFAR-100", 100, 20, 3, 32, kCifarTrainRecords, kCifarRecordsPerBatch, ""},
      {DatasetKind::kFashionMnist, "Fashion-MNIST", 10, 0, 1, kMnistPaddedSize, kMnistTrainImages, kMnistTestImages,
       kFashionMnistDefaultDir},
  };
  return table;
}

const DatasetFacts& facts_of(DatasetKind kind) {
  for (const auto& facts : dataset_facts()) {
    if (facts.kind == kind) return facts;
  }
  TORCH_CHECK(false, "facts_of: data set ", static_cast<int>(kind), " has no row in dataset_facts()");
}

int64_t classes_of(DatasetKind kind, bool coarse_labels) {
  const DatasetFacts& facts = facts_of(kind);
  return coarse_labels && facts.coarse_classes > 0 ? facts.coarse_classes : facts.classes;
}

int64_t channels_of(DatasetKind kind) { return facts_of(kind).channels; }

namespace {
DatasetKind kind_of(const std::string& name) {
  const auto kind = from_string<DatasetKind>(name);
  const std::string near = kind ? "" : closest_name(name, dataset_names());
  TORCH_CHECK_VALUE(kind.has_value(), "expected a data set name, one of ", c10::Join(", ", dataset_names()), " (got \"",
                    name, "\")", near.empty() ? "" : "; did you mean \"" + near + "\"?");
  return *kind;
}
}  // namespace

std::string default_data_dir(DatasetKind kind) { return facts_of(kind).default_dir; }

std::string default_data_dir(const std::string& name) {
  const auto kind = from_string<DatasetKind>(name);
  return kind ? default_data_dir(*kind) : "";
}

Dataset load_dataset(DatasetKind kind, const std::string& dir, const DatasetOptions& options) {
  const std::string name = to_string(kind);
  const std::string folder = dir.empty() ? default_data_dir(kind) : dir;
  TORCH_CHECK_VALUE(!folder.empty(), name, ": expected a data folder (got none); pass the folder that holds the ",
                    "official binary files, or its parent");
  TORCH_CHECK_VALUE(!options.coarse_labels() || kind == DatasetKind::kCifar100, name,
                    ": expected coarse labels only for cifar100 (got coarse labels for \"", name, "\")");
  Dataset data;
  if (kind == DatasetKind::kCifar10) {
    data = load_cifar(folder, Cifar::k10, CifarLabel::kFine, options.test_split());
  } else if (kind == DatasetKind::kCifar100) {
    data = load_cifar(folder, Cifar::k100, options.coarse_labels() ? CifarLabel::kCoarse : CifarLabel::kFine,
                      options.test_split());
  } else {
    data = load_fashion_mnist(folder, options.test_split());
  }
  return options.device() == torch::Device(torch::kCPU) ? data : data.to(options.device());
}

Dataset load_dataset(const std::string& name, const std::string& dir, const DatasetOptions& options) {
  return load_dataset(kind_of(name), dir, options);
}

SplitStats compute_stats(const Split& split, int64_t num_classes) {
  TORCH_CHECK_VALUE(split.images.defined() && split.images.dim() == 4, "compute_stats: expected (N, C, H, W) images (got ",
                    split.images.defined() ? split.images.dim() : 0, " dimensions)");
  SplitStats stats;
  stats.images = split.images.size(0);
  stats.shape = {split.images.size(1), split.images.size(2), split.images.size(3)};

  stats.class_counts.assign(static_cast<size_t>(num_classes), 0);
  const torch::Tensor labels = split.labels.to(torch::kCPU, at::kLong).contiguous();
  const int64_t* label = labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < labels.numel(); ++i) {
    TORCH_CHECK(label[i] >= 0 && label[i] < num_classes, "compute_stats: expected labels in 0..", num_classes - 1,
                " (got ", label[i], " at index ", i, ")");
    ++stats.class_counts[static_cast<size_t>(label[i])];
  }

  // float64 sums over chunks: exact enough for 50,000 x 1,024 pixels, without a float copy of the split.
  const int64_t channels = split.images.size(1);
  torch::Tensor sum = at::zeros({channels}, at::kDouble), sum_sq = at::zeros({channels}, at::kDouble);
  constexpr int64_t kChunk = 2048;
  for (int64_t start = 0; start < stats.images; start += kChunk) {
    const torch::Tensor x = split.images.narrow(0, start, std::min(kChunk, stats.images - start)).to(at::kDouble);
    sum += x.sum({0, 2, 3}).cpu();
    sum_sq += (x * x).sum({0, 2, 3}).cpu();
  }
  const double pixels = static_cast<double>(stats.images) * stats.shape[1] * stats.shape[2];
  for (int64_t c = 0; c < channels; ++c) {
    const double mean = pixels > 0 ? sum[c].item<double>() / pixels : 0.0;
    const double var = pixels > 0 ? sum_sq[c].item<double>() / pixels - mean * mean : 0.0;
    stats.mean.push_back(mean);
    stats.std.push_back(std::sqrt(std::max(var, 0.0)));
  }
  return stats;
}

}  // namespace propnet::data
