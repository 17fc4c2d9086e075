// Readers of the official CIFAR binary files and of IDX files (Fashion-MNIST, MNIST).
#include <propnet/data/cifar.h>
#include <propnet/data/fashion_mnist.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <c10/util/Exception.h>
#include <zlib.h>

namespace propnet::data {
namespace fs = std::filesystem;

namespace {

const char* component(Cifar which) { return which == Cifar::k10 ? "CIFAR-10" : "CIFAR-100"; }

std::string cifar_hint(Cifar which) {
  return std::string("get the official binary version with 'scripts/download_cifar.sh ") +
         (which == Cifar::k10 ? "cifar10" : "cifar100") + " DIR' (https://www.cs.toronto.edu/~kriz/cifar.html)";
}

const char* cifar_subdir(Cifar which) { return which == Cifar::k10 ? "cifar-10-batches-bin" : "cifar-100-binary"; }
const char* cifar_marker(Cifar which) { return which == Cifar::k10 ? "data_batch_1.bin" : "train.bin"; }

// The first label outside [0, classes) or -1; reported with its record number so a layout
// mistake (label bytes read as pixels) is obvious.
int64_t first_bad_label(const torch::Tensor& labels, int64_t classes) {
  const torch::Tensor bad = (labels < 0).logical_or(labels >= classes).nonzero();
  return bad.numel() == 0 ? -1 : bad[0][0].item<int64_t>();
}

}  // namespace

int64_t cifar_record_bytes(Cifar which) { return (which == Cifar::k10 ? 1 : 2) + kCifarImageBytes; }

Split read_cifar_file(const std::string& path, Cifar which, int64_t expected_records, CifarLabel label) {
  TORCH_CHECK_VALUE(expected_records > 0, component(which), ": expected a record count > 0 (got ", expected_records,
                    ")");
  const int64_t record = cifar_record_bytes(which);
  const int64_t expected = expected_records * record;
  std::error_code error;
  const auto size = static_cast<int64_t>(fs::file_size(path, error));
  TORCH_CHECK(!error, component(which), ": cannot open \"", path, "\": ", error.message(), "; ", cifar_hint(which));
  TORCH_CHECK(size == expected, component(which), ": expected \"", path, "\" to be ", expected, " bytes (",
              expected_records, " records of ", record, " bytes) (got ", size, " bytes",
              size % record == 0 ? ", " + std::to_string(size / record) + " records"
                                 : std::string(", not a whole number of records"),
              "); the file is ", size < expected ? "truncated" : "too large", " or not the official binary version; ",
              cifar_hint(which));

  std::ifstream in(path, std::ios::binary);
  TORCH_CHECK(in, component(which), ": cannot open \"", path, "\": ", std::strerror(errno));
  torch::Tensor raw = at::empty({expected_records, record}, at::kByte);
  in.read(reinterpret_cast<char*>(raw.data_ptr<uint8_t>()), expected);
  TORCH_CHECK(in.gcount() == expected, component(which), ": cannot read \"", path, "\": read ", in.gcount(), " of ",
              expected, " bytes");

  // Record: [coarse label] label, then 1024 R, 1024 G, 1024 B bytes, each plane row-major (spec §8.1).
  Split split;
  split.images = raw.narrow(1, record - kCifarImageBytes, kCifarImageBytes).contiguous().view({expected_records, 3, 32, 32});
  const int64_t column = (which == Cifar::k100 && label == CifarLabel::kFine) ? 1 : 0;
  split.labels = raw.select(1, column).to(at::kLong);
  const int64_t classes = which == Cifar::k10 ? 10 : (label == CifarLabel::kFine ? 100 : 20);
  const int64_t bad = first_bad_label(split.labels, classes);
  TORCH_CHECK(bad < 0, component(which), ": expected labels in 0..", classes - 1, " in \"", path, "\" (got ",
              split.labels[bad].item<int64_t>(), " in record ", bad, "); the file is not the official binary version; ",
              cifar_hint(which));
  return split;
}

std::string find_cifar_dir(const std::string& dir, Cifar which) {
  const fs::path root(dir);
  if (fs::exists(root / cifar_marker(which))) return root.string();
  if (fs::exists(root / cifar_subdir(which) / cifar_marker(which))) return (root / cifar_subdir(which)).string();
  std::error_code error;
  TORCH_CHECK(fs::is_directory(root, error), component(which), ": cannot open the data folder \"", dir, "\": ",
              fs::exists(root) ? "Not a directory" : "No such file or directory", "; ", cifar_hint(which));
  TORCH_CHECK(false, component(which), ": expected ", cifar_marker(which), " in \"", dir, "\" or in \"",
              (root / cifar_subdir(which)).string(), "\" (found neither); pass the extracted folder or its parent, or ",
              cifar_hint(which));
}

std::vector<std::string> read_class_names(const std::string& path) {
  std::vector<std::string> names;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    if (!line.empty()) names.push_back(line);
  }
  return names;
}

Dataset load_cifar(const std::string& dir, Cifar which, CifarLabel label, bool test_split) {
  const fs::path root(find_cifar_dir(dir, which));
  Dataset data;
  data.channels = 3;
  int64_t classes = 10;
  std::string names_file = "batches.meta.txt";
  if (which == Cifar::k10) {
    data.name = "cifar10";
    std::vector<torch::Tensor> images, labels;
    for (int i = 1; i <= 5; ++i) {
      Split batch = read_cifar_file((root / ("data_batch_" + std::to_string(i) + ".bin")).string(), which,
                                    kCifarRecordsPerBatch, label);
      images.push_back(batch.images);
      labels.push_back(batch.labels);
    }
    data.train = {at::cat(images), at::cat(labels)};
    if (test_split) data.test = read_cifar_file((root / "test_batch.bin").string(), which, kCifarRecordsPerBatch, label);
    data.mean.assign(std::begin(kCifar10Mean), std::end(kCifar10Mean));
    data.std.assign(std::begin(kCifar10Std), std::end(kCifar10Std));
  } else {
    data.name = "cifar100";
    classes = label == CifarLabel::kFine ? 100 : 20;
    names_file = label == CifarLabel::kFine ? "fine_label_names.txt" : "coarse_label_names.txt";
    data.train = read_cifar_file((root / "train.bin").string(), which, kCifarTrainRecords, label);
    if (test_split) data.test = read_cifar_file((root / "test.bin").string(), which, kCifarRecordsPerBatch, label);
    data.mean.assign(std::begin(kCifar100Mean), std::end(kCifar100Mean));
    data.std.assign(std::begin(kCifar100Std), std::end(kCifar100Std));
  }
  data.classes = read_class_names((root / names_file).string());
  TORCH_CHECK(data.classes.empty() || static_cast<int64_t>(data.classes.size()) == classes, component(which),
              ": expected ", classes, " class names in \"", (root / names_file).string(), "\" (got ",
              data.classes.size(), ")");
  if (data.classes.empty()) {
    for (int64_t c = 0; c < classes; ++c) data.classes.push_back(std::to_string(c));
  }
  return data;
}

// ---- IDX ----

namespace {

constexpr int kIdxUnsignedByte = 0x08;

// The whole (decompressed) content: zlib reads gzip and plain files alike.
std::vector<uint8_t> read_maybe_gzip(const std::string& path, const char* who) {
  std::error_code error;
  const bool regular = fs::is_regular_file(path, error);
  TORCH_CHECK(regular, who, ": cannot open \"", path, "\": ",
              fs::exists(path) ? "Not a regular file" : "No such file or directory");
  errno = 0;
  gzFile file = gzopen(path.c_str(), "rb");
  TORCH_CHECK(file != nullptr, who, ": cannot open \"", path, "\": ", errno ? std::strerror(errno) : "out of memory");
  std::vector<uint8_t> content;
  constexpr unsigned kChunk = 1u << 20;
  for (;;) {
    const size_t old = content.size();
    content.resize(old + kChunk);
    const int got = gzread(file, content.data() + old, kChunk);
    if (got < 0) {
      int code = 0;
      const std::string reason = gzerror(file, &code);
      gzclose(file);
      TORCH_CHECK(false, who, ": cannot read \"", path, "\": ", reason, " (a truncated or corrupt .gz file?)");
    }
    content.resize(old + static_cast<size_t>(got));
    if (got == 0) break;
  }
  // zlib reports a gzip stream cut short only at close (or via gzerror with Z_BUF_ERROR).
  int code = 0;
  const std::string reason = gzerror(file, &code);
  const int closed = gzclose(file);
  TORCH_CHECK(code == Z_OK && closed == Z_OK, who, ": cannot read \"", path, "\": ",
              code != Z_OK ? reason : "unexpected end of file", " (a truncated or corrupt .gz file?)");
  return content;
}

uint32_t big_endian(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// Validates the header and the length; returns the dimensions and the offset of the data.
std::vector<int64_t> idx_dimensions(const std::vector<uint8_t>& content, const std::string& path, int dims,
                                    const char* kind, const char* who) {
  const size_t header = 4 + 4 * static_cast<size_t>(dims);
  TORCH_CHECK(content.size() >= 4, who, ": expected \"", path, "\" to hold an IDX ", kind, " header of ", header,
              " bytes (got ", content.size(), " bytes); the file is truncated");
  const uint32_t magic = big_endian(content.data());
  const uint32_t expected_magic = (kIdxUnsignedByte << 8) | static_cast<uint32_t>(dims);
  if (magic != expected_magic) {
    char text[16];
    std::snprintf(text, sizeof(text), "0x%08X", magic);
    char want[16];
    std::snprintf(want, sizeof(want), "0x%08X", expected_magic);
    TORCH_CHECK(false, who, ": expected \"", path, "\" to start with the IDX ", kind, " magic number ", want,
                " (unsigned bytes, ", dims, " dimensions) (got ", text, "); is it an IDX ", kind,
                " file (images: *-images-idx3-ubyte, labels: *-labels-idx1-ubyte)?");
  }
  TORCH_CHECK(content.size() >= header, who, ": expected \"", path, "\" to hold an IDX ", kind, " header of ", header,
              " bytes (got ", content.size(), " bytes); the file is truncated");
  std::vector<int64_t> sizes;
  int64_t total = 1;
  for (int d = 0; d < dims; ++d) {
    sizes.push_back(big_endian(content.data() + 4 + 4 * d));
    total *= sizes.back();
  }
  const auto expected = static_cast<int64_t>(header) + total;
  const auto actual = static_cast<int64_t>(content.size());
  TORCH_CHECK(actual == expected, who, ": expected \"", path, "\" to hold ", expected, " bytes (", sizes[0], " ",
              kind, " in its header) (got ", actual, " bytes); the file is ", actual < expected ? "truncated" : "too large (trailing bytes)");
  return sizes;
}

torch::Tensor idx_images(const std::string& path, int64_t expected_count, const char* who) {
  const std::vector<uint8_t> content = read_maybe_gzip(path, who);
  const std::vector<int64_t> sizes = idx_dimensions(content, path, 3, "images", who);
  TORCH_CHECK(expected_count < 0 || sizes[0] == expected_count, who, ": expected ", expected_count,
              " images in \"", path, "\" (got ", sizes[0], ")");
  torch::Tensor images = at::empty({sizes[0], 1, sizes[1], sizes[2]}, at::kByte);
  std::memcpy(images.data_ptr<uint8_t>(), content.data() + 16, static_cast<size_t>(images.numel()));
  return images;
}

torch::Tensor idx_labels(const std::string& path, int64_t expected_count, const char* who) {
  const std::vector<uint8_t> content = read_maybe_gzip(path, who);
  const std::vector<int64_t> sizes = idx_dimensions(content, path, 1, "labels", who);
  TORCH_CHECK(expected_count < 0 || sizes[0] == expected_count, who, ": expected ", expected_count,
              " labels in \"", path, "\" (got ", sizes[0], ")");
  torch::Tensor labels = at::empty({sizes[0]}, at::kByte);
  std::memcpy(labels.data_ptr<uint8_t>(), content.data() + 8, static_cast<size_t>(sizes[0]));
  return labels.to(at::kLong);
}

std::string find_idx_file(const fs::path& dir, const std::string& base, const char* who) {
  for (const std::string& name : {base + ".gz", base}) {
    if (fs::exists(dir / name)) return (dir / name).string();
  }
  TORCH_CHECK(false, who, ": cannot find \"", (dir / (base + ".gz")).string(), "\" or \"", (dir / base).string(),
              "\": No such file or directory; install the Debian package dataset-fashion-mnist (into ",
              kFashionMnistDefaultDir, ") or download the four files from "
              "https://github.com/zalandoresearch/fashion-mnist and pass their folder");
}

Split idx_split(const fs::path& dir, const std::string& prefix, int64_t expected, const char* who) {
  const std::string images_path = find_idx_file(dir, prefix + "-images-idx3-ubyte", who);
  const std::string labels_path = find_idx_file(dir, prefix + "-labels-idx1-ubyte", who);
  Split split{idx_images(images_path, -1, who), idx_labels(labels_path, -1, who)};
  TORCH_CHECK(split.images.size(0) == split.labels.size(0), who, ": expected as many labels as images (got ",
              split.images.size(0), " images in \"", images_path, "\" and ", split.labels.size(0), " labels in \"",
              labels_path, "\")");
  TORCH_CHECK(split.images.size(0) == expected, who, ": expected ", expected, " images in \"", images_path,
              "\" (got ", split.images.size(0), "); the official ", prefix == "train" ? "training" : "test",
              " set has ", expected);
  TORCH_CHECK(split.images.size(2) == 28 && split.images.size(3) == 28, who, ": expected 28x28 images in \"",
              images_path, "\" (got ", split.images.size(2), "x", split.images.size(3), ")");
  const int64_t bad = first_bad_label(split.labels, 10);
  TORCH_CHECK(bad < 0, who, ": expected labels in 0..9 in \"", labels_path, "\" (got ",
              split.labels[bad].item<int64_t>(), " at index ", bad, ")");
  split.images = pad_images(split.images, kMnistPaddedSize);
  return split;
}

}  // namespace

torch::Tensor read_idx_images(const std::string& path, int64_t expected_count) {
  return idx_images(path, expected_count, "IDX");
}

torch::Tensor read_idx_labels(const std::string& path, int64_t expected_count) {
  return idx_labels(path, expected_count, "IDX");
}

torch::Tensor pad_images(const torch::Tensor& images, int64_t size) {
  TORCH_CHECK_VALUE(images.dim() == 4 && images.size(2) <= size && images.size(3) <= size,
                    "pad_images: expected (N, C, h, w) images with h, w <= ", size, " (got ", images.sizes(), ")");
  const int64_t top = (size - images.size(2)) / 2, left = (size - images.size(3)) / 2;
  return at::constant_pad_nd(images, {left, size - images.size(3) - left, top, size - images.size(2) - top}, 0)
      .contiguous();
}

Dataset load_fashion_mnist(const std::string& dir, bool test_split) {
  constexpr const char* kWho = "Fashion-MNIST";
  Dataset data;
  data.name = "fashion-mnist";
  data.channels = 1;
  data.train = idx_split(dir, "train", kMnistTrainImages, kWho);
  if (test_split) data.test = idx_split(dir, "t10k", kMnistTestImages, kWho);
  // Class names from the data set's README (https://github.com/zalandoresearch/fashion-mnist).
  data.classes = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                  "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  data.mean = {kFashionMnistMean};
  data.std = {kFashionMnistStd};
  return data;
}

}  // namespace propnet::data
