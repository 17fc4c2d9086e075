// Readers (CIFAR binary, IDX, Fashion-MNIST), data sets and their statistics; the input pipeline is
// tested in pipeline_test.cpp.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <c10/util/Exception.h>
#include <torch/types.h>
#include <zlib.h>

#include <propnet/data/cifar.h>
#include <propnet/data/dataset.h>
#include <propnet/data/epoch_order.h>
#include <propnet/data/fashion_mnist.h>
#include <propnet/data/transforms.h>

#include "support.h"
#include "data/pattern.h"

namespace propnet::data {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

void write_bytes(const fs::path& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// An official-format CIFAR file of `n` records: labels (r + first) % 10 (CIFAR-10), or coarse
// (r + first) % 20 and fine (r + first) * 3 % 100 (CIFAR-100); pixels from `pattern`.
std::vector<uint8_t> cifar_bytes(Cifar which, int64_t n, int64_t first = 0) {
  const torch::Tensor images = pattern_images(n, 3, 32, first).contiguous();
  const uint8_t* pixels = images.data_ptr<uint8_t>();
  std::vector<uint8_t> bytes;
  bytes.reserve(static_cast<size_t>(n * cifar_record_bytes(which)));
  for (int64_t r = 0; r < n; ++r) {
    const int64_t id = first + r;
    if (which == Cifar::k10) {
      bytes.push_back(static_cast<uint8_t>(id % 10));
    } else {
      bytes.push_back(static_cast<uint8_t>(id % 20));
      bytes.push_back(static_cast<uint8_t>(id * 3 % 100));
    }
    bytes.insert(bytes.end(), pixels + r * kCifarImageBytes, pixels + (r + 1) * kCifarImageBytes);
  }
  return bytes;
}

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const c10::Error& e) {
    return e.what_without_backtrace();
  }
  return "(no error)";
}

// ---- CIFAR ----

TEST(CifarTest, ReadsPixelsChannelPlanarRowMajorAndLabels) {
  const fs::path dir = test::scratch_dir("cifar10-small");
  write_bytes(dir / "b.bin", cifar_bytes(Cifar::k10, 5));
  const Split s = read_cifar_file((dir / "b.bin").string(), Cifar::k10, 5);
  ASSERT_EQ(s.images.sizes(), torch::IntArrayRef({5, 3, 32, 32}));
  EXPECT_EQ(s.images.scalar_type(), torch::kByte);
  EXPECT_EQ(s.labels.scalar_type(), torch::kLong);
  EXPECT_TRUE(torch::equal(s.images, pattern_images(5, 3, 32)));
  EXPECT_TRUE(torch::equal(s.labels, torch::arange(5, torch::kLong)));
  EXPECT_EQ(s.images[2][1][3][4].item<int>(), pattern(2, 1, 3, 4));  // G plane, row 3, column 4
}

TEST(CifarTest, Cifar100ReadsFineLabelsByDefaultAndCoarseOnRequest) {
  const fs::path dir = test::scratch_dir("cifar100-small");
  write_bytes(dir / "b.bin", cifar_bytes(Cifar::k100, 30));
  const Split fine = read_cifar_file((dir / "b.bin").string(), Cifar::k100, 30);
  const Split coarse = read_cifar_file((dir / "b.bin").string(), Cifar::k100, 30, CifarLabel::kCoarse);
  EXPECT_TRUE(torch::equal(fine.images, pattern_images(30, 3, 32)));
  EXPECT_TRUE(torch::equal(fine.labels, torch::arange(30, torch::kLong) * 3 % 100));
  EXPECT_TRUE(torch::equal(coarse.labels, torch::arange(30, torch::kLong) % 20));
}

TEST(CifarTest, TruncatedFileNamesThePathTheExpectedAndActualSizeAndTheFix) {
  const fs::path dir = test::scratch_dir("cifar-truncated");
  std::vector<uint8_t> bytes = cifar_bytes(Cifar::k10, 5);
  bytes.resize(bytes.size() - 10);
  write_bytes(dir / "data_batch_1.bin", bytes);
  const std::string message =
      error_of([&] { read_cifar_file((dir / "data_batch_1.bin").string(), Cifar::k10, 5); });
  EXPECT_THAT(message, AllOf(HasSubstr("CIFAR-10: expected \"" + (dir / "data_batch_1.bin").string()),
                             HasSubstr("15365 bytes (5 records of 3073 bytes)"), HasSubstr("got 15355 bytes"),
                             HasSubstr("truncated"), HasSubstr("scripts/download_cifar.sh cifar10")));
}

TEST(CifarTest, OversizedFileIsRejected) {
  const fs::path dir = test::scratch_dir("cifar-oversized");
  write_bytes(dir / "test.bin", cifar_bytes(Cifar::k100, 6));
  EXPECT_THAT(error_of([&] { read_cifar_file((dir / "test.bin").string(), Cifar::k100, 5); }),
              AllOf(HasSubstr("CIFAR-100: expected"), HasSubstr("15370 bytes"), HasSubstr("got 18444 bytes, 6 records"),
                    HasSubstr("too large"), HasSubstr("download_cifar.sh cifar100")));
}

TEST(CifarTest, MissingFileNamesThePathAndTheReason) {
  const fs::path dir = test::scratch_dir("cifar-missing");
  EXPECT_THAT(error_of([&] { read_cifar_file((dir / "nope.bin").string(), Cifar::k10, 5); }),
              AllOf(HasSubstr("CIFAR-10: cannot open \"" + (dir / "nope.bin").string() + "\""),
                    HasSubstr("No such file or directory"), HasSubstr("download_cifar.sh")));
}

TEST(CifarTest, LabelOutOfRangeIsRejectedWithItsRecord) {
  const fs::path dir = test::scratch_dir("cifar-bad-label");
  std::vector<uint8_t> bytes = cifar_bytes(Cifar::k10, 3);
  bytes[2 * 3073] = 17;
  write_bytes(dir / "b.bin", bytes);
  EXPECT_THAT(error_of([&] { read_cifar_file((dir / "b.bin").string(), Cifar::k10, 3); }),
              HasSubstr("expected labels in 0..9 in \"" + (dir / "b.bin").string() + "\" (got 17 in record 2)"));
}

TEST(CifarTest, PublicLoaderEnforcesTheOfficialRecordCounts) {
  const fs::path root = test::scratch_dir("cifar10-few-records");
  const fs::path dir = root / "cifar-10-batches-bin";
  fs::create_directories(dir);
  for (int i = 1; i <= 5; ++i) write_bytes(dir / ("data_batch_" + std::to_string(i) + ".bin"), cifar_bytes(Cifar::k10, 3));
  write_bytes(dir / "test_batch.bin", cifar_bytes(Cifar::k10, 3));
  EXPECT_THAT(error_of([&] { load_dataset("cifar10", root.string()); }),
              AllOf(HasSubstr((dir / "data_batch_1.bin").string()),
                    HasSubstr("30730000 bytes (10000 records of 3073 bytes) (got 9219 bytes, 3 records)")));
}

TEST(CifarTest, LoaderSaysWhereItLookedWhenTheFolderHoldsNoData) {
  const fs::path root = test::scratch_dir("cifar-empty");
  EXPECT_THAT(error_of([&] { load_dataset("cifar100", root.string()); }),
              AllOf(HasSubstr("CIFAR-100: expected train.bin in \"" + root.string() + "\" or in \""),
                    HasSubstr("cifar-100-binary"), HasSubstr("download_cifar.sh cifar100")));
  EXPECT_THAT(error_of([&] { load_dataset("cifar10", (root / "absent").string()); }),
              HasSubstr("No such file or directory"));
}

TEST(CifarTest, Cifar100FullSizeLoadsFromTheFolderOrItsParentWithClassNames) {
  const fs::path root = test::scratch_dir("cifar100-full");
  const fs::path dir = root / "cifar-100-binary";
  fs::create_directories(dir);
  write_bytes(dir / "train.bin", cifar_bytes(Cifar::k100, kCifarTrainRecords));
  write_bytes(dir / "test.bin", cifar_bytes(Cifar::k100, kCifarRecordsPerBatch, 7));
  {
    std::ofstream coarse(dir / "coarse_label_names.txt");
    for (int c = 0; c < 20; ++c) coarse << "coarse" << c << "\n";
  }
  for (const fs::path& where : {root, dir}) {
    const Dataset d = load_dataset("cifar100", where.string());
    EXPECT_EQ(d.name, "cifar100");
    EXPECT_EQ(d.train.size(), 50000);
    EXPECT_EQ(d.test.size(), 10000);
    EXPECT_EQ(d.num_classes(), 100);
    EXPECT_EQ(d.classes[42], "42");  // fine_label_names.txt is absent
    EXPECT_EQ(d.mean, (std::vector<double>{129.304, 124.070, 112.434}));
    EXPECT_EQ(d.std, (std::vector<double>{68.170, 65.392, 70.418}));
    EXPECT_TRUE(torch::equal(d.test.images.narrow(0, 100, 3), pattern_images(3, 3, 32, 107)));
    EXPECT_EQ(d.test.labels[100].item<int64_t>(), 107 * 3 % 100);
  }
  const Dataset coarse = load_dataset("cifar100", root.string(), DatasetOptions().coarse_labels(true));
  EXPECT_EQ(coarse.num_classes(), 20);
  EXPECT_EQ(coarse.classes[3], "coarse3");
  EXPECT_EQ(coarse.train.labels[45].item<int64_t>(), 45 % 20);
  EXPECT_THAT([] { load_dataset("cifar10", "x", DatasetOptions().coarse_labels(true)); },
              ThrowsMessage<c10::ValueError>(HasSubstr("coarse labels only for cifar100")));
}

TEST(DatasetTest, HeadTakesTheFirstImagesOrTheWholeSplit) {
  const Split split{torch::arange(5 * 4, torch::kUInt8).view({5, 1, 2, 2}), torch::arange(5, torch::kLong)};
  const Split first = split.head(3);
  EXPECT_EQ(first.size(), 3);
  EXPECT_TRUE(torch::equal(first.labels, torch::arange(3, torch::kLong)));
  EXPECT_TRUE(torch::equal(first.images, split.images.slice(0, 0, 3)));
  EXPECT_EQ(split.head(0).size(), 5);  // 0 = all
  EXPECT_EQ(split.head(9).size(), 5);
  EXPECT_THAT([&] { split.head(-1); }, ::testing::ThrowsMessage<c10::ValueError>(::testing::HasSubstr("expected n >= 0")));
}

TEST(DatasetTest, UnknownNameListsTheValidOnes) {
  EXPECT_THAT([] { load_dataset("cifar1000", "x"); },
              ThrowsMessage<c10::ValueError>(HasSubstr("one of cifar10, cifar100, fashion-mnist (got \"cifar1000\")")));
}

TEST(DatasetTest, StatisticsArePerChannelOnTheRawScale) {
  Split s;
  s.images = torch::empty({4, 2, 3, 3}, torch::kByte);
  for (int64_t c = 0; c < 2; ++c) {
    s.images.narrow(0, 0, 2).select(1, c).fill_(10 * c);        // half the images 10c,
    s.images.narrow(0, 2, 2).select(1, c).fill_(10 * c + 20);   // half 10c + 20: mean 10c + 10, std 10
  }
  s.labels = torch::tensor({0, 2, 2, 1}, torch::kLong);
  const SplitStats stats = compute_stats(s, 4);
  EXPECT_EQ(stats.images, 4);
  EXPECT_EQ(stats.shape, (std::vector<int64_t>{2, 3, 3}));
  EXPECT_EQ(stats.class_counts, (std::vector<int64_t>{1, 1, 2, 0}));
  EXPECT_DOUBLE_EQ(stats.mean[0], 10.0);
  EXPECT_DOUBLE_EQ(stats.mean[1], 20.0);
  EXPECT_DOUBLE_EQ(stats.std[0], 10.0);
  EXPECT_DOUBLE_EQ(stats.std[1], 10.0);
}

// ---- IDX ----

std::vector<uint8_t> idx_bytes(uint32_t magic, std::vector<uint32_t> dims, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> bytes;
  auto put = [&](uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<uint8_t>(v >> shift));
  };
  put(magic);
  for (uint32_t d : dims) put(d);
  bytes.insert(bytes.end(), data.begin(), data.end());
  return bytes;
}

std::vector<uint8_t> image_data(int64_t n, int64_t size) {
  const torch::Tensor t = pattern_images(n, 1, size).contiguous();
  return {t.data_ptr<uint8_t>(), t.data_ptr<uint8_t>() + t.numel()};
}

void write_gz(const fs::path& path, const std::vector<uint8_t>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
  ASSERT_EQ(gzclose(f), Z_OK);
}

TEST(IdxTest, ReadsGzipAndPlainFilesAlike) {
  const fs::path dir = test::scratch_dir("idx-both");
  const std::vector<uint8_t> images = idx_bytes(0x803, {4, 28, 28}, image_data(4, 28));
  const std::vector<uint8_t> labels = idx_bytes(0x801, {4}, {3, 1, 4, 1});
  write_bytes(dir / "images", images);
  write_gz(dir / "images.gz", images);
  write_bytes(dir / "labels", labels);
  write_gz(dir / "labels.gz", labels);
  for (const char* suffix : {"", ".gz"}) {
    const torch::Tensor x = read_idx_images((dir / (std::string("images") + suffix)).string(), 4);
    const torch::Tensor y = read_idx_labels((dir / (std::string("labels") + suffix)).string(), 4);
    EXPECT_TRUE(torch::equal(x, pattern_images(4, 1, 28))) << suffix;
    EXPECT_TRUE(torch::equal(y, torch::tensor({3, 1, 4, 1}, torch::kLong))) << suffix;
  }
}

TEST(IdxTest, WrongMagicNumberIsRejected) {
  const fs::path dir = test::scratch_dir("idx-magic");
  write_bytes(dir / "labels", idx_bytes(0x801, {4}, {3, 1, 4, 1}));
  EXPECT_THAT(error_of([&] { read_idx_images((dir / "labels").string()); }),
              AllOf(HasSubstr("IDX: expected \"" + (dir / "labels").string() + "\" to start with the IDX images magic "
                              "number 0x00000803"),
                    HasSubstr("(got 0x00000801)")));
}

TEST(IdxTest, TruncatedOversizedAndCountMismatchedFilesAreRejected) {
  const fs::path dir = test::scratch_dir("idx-sizes");
  std::vector<uint8_t> short_file = idx_bytes(0x803, {4, 28, 28}, image_data(4, 28));
  short_file.resize(short_file.size() - 1);
  write_gz(dir / "short.gz", short_file);
  EXPECT_THAT(error_of([&] { read_idx_images((dir / "short.gz").string()); }),
              AllOf(HasSubstr("to hold 3152 bytes (4 images in its header) (got 3151 bytes)"), HasSubstr("truncated")));
  write_bytes(dir / "long", idx_bytes(0x801, {3}, {1, 2, 3, 4}));
  EXPECT_THAT(error_of([&] { read_idx_labels((dir / "long").string()); }), HasSubstr("too large"));
  write_bytes(dir / "labels", idx_bytes(0x801, {3}, {1, 2, 3}));
  EXPECT_THAT(error_of([&] { read_idx_labels((dir / "labels").string(), 60000); }),
              HasSubstr("expected 60000 labels in \"" + (dir / "labels").string() + "\" (got 3)"));
  write_bytes(dir / "header", {0, 0, 8});
  EXPECT_THAT(error_of([&] { read_idx_labels((dir / "header").string()); }), HasSubstr("truncated"));
}

TEST(IdxTest, CorruptGzipStreamIsAnError) {
  const fs::path dir = test::scratch_dir("idx-corrupt");
  write_gz(dir / "full.gz", idx_bytes(0x803, {50, 28, 28}, image_data(50, 28)));
  std::ifstream in(dir / "full.gz", std::ios::binary);
  std::vector<uint8_t> gz((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  gz.resize(gz.size() / 2);
  write_bytes(dir / "cut.gz", gz);
  EXPECT_THAT(error_of([&] { read_idx_images((dir / "cut.gz").string()); }),
              AllOf(HasSubstr("IDX: cannot read \"" + (dir / "cut.gz").string() + "\""), HasSubstr("corrupt")));
}

void write_fashion(const fs::path& dir, int64_t train_images, int64_t train_labels) {
  write_gz(dir / "train-images-idx3-ubyte.gz", idx_bytes(0x803, {static_cast<uint32_t>(train_images), 28, 28},
                                                          image_data(train_images, 28)));
  write_gz(dir / "train-labels-idx1-ubyte.gz",
           idx_bytes(0x801, {static_cast<uint32_t>(train_labels)}, std::vector<uint8_t>(train_labels, 1)));
  write_bytes(dir / "t10k-images-idx3-ubyte", idx_bytes(0x803, {2, 28, 28}, image_data(2, 28)));
  write_bytes(dir / "t10k-labels-idx1-ubyte", idx_bytes(0x801, {2}, {0, 9}));
}

TEST(FashionMnistTest, ImagesAndLabelsMustAgreeAndMatchTheOfficialCounts) {
  const fs::path dir = test::scratch_dir("fashion-small");
  write_fashion(dir, 3, 2);
  EXPECT_THAT(error_of([&] { load_dataset("fashion-mnist", dir.string()); }),
              AllOf(HasSubstr("Fashion-MNIST: expected as many labels as images (got 3 images in"),
                    HasSubstr("and 2 labels in")));
  write_fashion(dir, 3, 3);
  EXPECT_THAT(error_of([&] { load_dataset("fashion-mnist", dir.string()); }),
              HasSubstr("Fashion-MNIST: expected 60000 images in \"" + (dir / "train-images-idx3-ubyte.gz").string() +
                        "\" (got 3)"));
  fs::remove(dir / "train-labels-idx1-ubyte.gz");
  EXPECT_THAT(error_of([&] { load_dataset("fashion-mnist", dir.string()); }),
              AllOf(HasSubstr("cannot find \"" + (dir / "train-labels-idx1-ubyte.gz").string() + "\""),
                    HasSubstr("dataset-fashion-mnist")));
}

TEST(FashionMnistTest, ImagesAreZeroPaddedTo32Centred) {
  const torch::Tensor small = pattern_images(2, 1, 28);
  const torch::Tensor padded = pad_images(small, 32);
  ASSERT_EQ(padded.sizes(), torch::IntArrayRef({2, 1, 32, 32}));
  EXPECT_TRUE(torch::equal(padded.narrow(2, 2, 28).narrow(3, 2, 28), small));
  EXPECT_EQ(padded.sum().item<int64_t>(), small.sum().item<int64_t>());
}

TEST(FashionMnistTest, RealFilesMatchTheHardCodedConstants) {
  if (!fs::exists(kFashionMnistDefaultDir)) GTEST_SKIP() << kFashionMnistDefaultDir << " is absent";
  const Dataset d = load_dataset("fashion-mnist", "");
  EXPECT_EQ(d.train.size(), 60000);
  EXPECT_EQ(d.test.size(), 10000);
  EXPECT_EQ(d.train.images.sizes(), torch::IntArrayRef({60000, 1, 32, 32}));
  const SplitStats stats = compute_stats(d.train, d.num_classes());
  EXPECT_EQ(stats.class_counts, std::vector<int64_t>(10, 6000));
  EXPECT_NEAR(stats.mean[0], kFashionMnistMean, 1e-3);
  EXPECT_NEAR(stats.std[0], kFashionMnistStd, 1e-3);
}

}  // namespace
}  // namespace propnet::data
