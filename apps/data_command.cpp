// `propnet data`: check a downloaded data set (counts, shapes, class counts, pixel statistics),
// or time the input pipeline on synthetic data (--bench).
#include <iostream>
#include <string>
#include <vector>

#include <ATen/Parallel.h>
#include <cxxopts.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <propnet/choices.h>
#include <propnet/data/dataset.h>
#include <propnet/data/transforms.h>
#include <propnet/runtime.h>

#include "cli.h"

namespace propnet::cli {
namespace {

constexpr const char* kDataDescription =
    "Check a data set: images, shape, class counts, per-channel mean and std of the raw 0-255 pixels and the class\n"
    "names of the training and test splits. Data sets: cifar10 and cifar100 (the official binary versions; pass the\n"
    "extracted folder or its parent; get them with scripts/download_cifar.sh) and fashion-mnist (IDX files, .gz or\n"
    "plain; default folder /usr/share/datasets/fashion-mnist from the Debian package dataset-fashion-mnist).\n"
    "Fashion-MNIST's 28x28 images are given to the networks as 1-channel images zero-padded to 32x32; its\n"
    "statistics are those of the padded images.\n"
    "--bench times the input pipeline (batch selection, normalization, pad-4 crop and flip) on synthetic\n"
    "CIFAR-size data; no files are read.";

nlohmann::json to_json(const data::SplitStats& s) {
  return {{"images", s.images}, {"shape", s.shape}, {"class_counts", s.class_counts}, {"mean", s.mean}, {"std", s.std}};
}

std::string numbers(const std::vector<double>& values) {
  std::vector<std::string> parts;
  for (double v : values) parts.push_back(fmt::format("{:.3f}", v));
  return fmt::format("{}", fmt::join(parts, "  "));
}

void print_split(const char* name, const data::SplitStats& s) {
  std::cout << fmt::format("{:<6} {} images of {}\n", name, s.images, fmt::join(s.shape, "x"))
            << fmt::format("  class counts  {}\n", fmt::join(s.class_counts, " "))
            << fmt::format("  mean (0-255)  {}\n", numbers(s.mean))
            << fmt::format("  std  (0-255)  {}\n", numbers(s.std));
}

torch::Device parse_device(const std::string& text) {
  try {
    return torch::Device(text);
  } catch (const std::exception&) {
    throw UsageError("--device: expected cpu, cuda or cuda:N (got \"" + text + "\")");
  }
}

int run_bench(const cxxopts::ParseResult& flags) {
  if (flags.count("threads")) configure_threads(flags["threads"].as<int64_t>());
  const auto options = data::PipelineBenchOptions()
                           .batch_size(flags["batch-size"].as<int64_t>())
                           .steps(flags["steps"].as<int64_t>())
                           .train(!flags.count("no-augment"))
                           .device(parse_device(flags["device"].as<std::string>()));
  const data::PipelineBenchResult r = data::benchmark_pipeline(options);
  const std::string what = options.train() ? "select+normalize+pad-4 crop+flip" : "select+normalize";
  if (flags.count("json")) {
    std::cout << nlohmann::json{{"images", r.images},       {"seconds", r.seconds},
                                {"images_per_second", r.images_per_second}, {"batch_size", options.batch_size()},
                                {"steps", options.steps()}, {"augment", options.train()},
                                {"device", options.device().str()},        {"threads", at::get_num_threads()}}
                     .dump()
              << "\n";
  } else {
    std::cout << fmt::format("data pipeline ({}): {} batches of {} 3x32x32 uint8 images on {} ({} threads) in "
                             "{:.3f} s: {:.0f} images/s\n",
                             what, options.steps(), options.batch_size(), options.device().str(), at::get_num_threads(),
                             r.seconds, r.images_per_second);
  }
  return kExitOk;
}

// The data-set table (data::dataset_facts) as text or JSON: the toolkit (scripts/lab) reads the JSON, so no
// script restates a data set's size or classes.
int list_datasets(bool json) {
  nlohmann::json rows = nlohmann::json::array();
  for (const data::DatasetFacts& f : data::dataset_facts()) {
    rows.push_back({{"name", to_string(f.kind)},
                    {"title", f.title},
                    {"classes", f.classes},
                    {"coarse_classes", f.coarse_classes},
                    {"channels", f.channels},
                    {"image_size", f.image_size},
                    {"train_images", f.train_images},
                    {"test_images", f.test_images},
                    {"default_dir", f.default_dir}});
  }
  if (json) {
    std::cout << rows.dump() << "\n";
    return kExitOk;
  }
  std::cout << fmt::format("{:<14} {:<14} {:>7} {:>8} {:>6} {:>7} {:>6}  {}\n", "name", "title", "classes", "channels",
                           "size", "train", "test", "default folder");
  for (const auto& r : rows) {
    const int64_t coarse = r["coarse_classes"].get<int64_t>();
    std::cout << fmt::format("{:<14} {:<14} {:>7} {:>8} {:>6} {:>7} {:>6}  {}\n", r["name"].get<std::string>(),
                             r["title"].get<std::string>(),
                             std::to_string(r["classes"].get<int64_t>()) + (coarse ? "/" + std::to_string(coarse) : ""),
                             r["channels"].get<int64_t>(), r["image_size"].get<int64_t>(),
                             r["train_images"].get<int64_t>(), r["test_images"].get<int64_t>(),
                             r["default_dir"].get<std::string>().empty() ? "-" : r["default_dir"].get<std::string>());
  }
  return kExitOk;
}

}  // namespace

int data_command(int argc, char** argv) {
  return run_reporting_errors("data", [&] {
    cxxopts::Options options("propnet data", kDataDescription);
    options.add_options()
        ("dataset", "cifar10, cifar100 or fashion-mnist", cxxopts::value<std::string>())
        ("data-dir", "folder of the data set (default for fashion-mnist: /usr/share/datasets/fashion-mnist)",
         cxxopts::value<std::string>())
        ("coarse", "cifar100: the 20 coarse labels instead of the 100 fine ones")
        ("json", "print one JSON object instead of text")
        ("list", "list the data sets propnet reads: classes, channels, image size, split sizes, default folder")
        ("bench", "time the input pipeline on synthetic data instead (no files needed)")
        ("batch-size", "--bench: images per batch", cxxopts::value<int64_t>()->default_value("64"))
        ("steps", "--bench: batches timed", cxxopts::value<int64_t>()->default_value("500"))
        ("no-augment", "--bench: only select and normalize (test batches)")
        ("threads", "--bench: intra-op CPU threads (default: every core)", cxxopts::value<int64_t>())
        ("device", "--bench: cpu, cuda or cuda:N", cxxopts::value<std::string>()->default_value("cpu"))
        ("h,help", "show this help");
    const auto flags = parse_flags(options, argc, argv);
    if (flags.count("help")) {
      std::cout << options.help()
                << "\nExamples:\n  propnet data --dataset cifar10 --data-dir data/cifar-10-batches-bin\n"
                   "  propnet data --dataset fashion-mnist --json\n  propnet data --list --json\n  propnet data --bench --batch-size 64 --steps 1000\n";
      return kExitOk;
    }
    if (!flags.unmatched().empty()) throw UsageError("unexpected argument \"" + flags.unmatched().front() + "\"");
    if (flags.count("list")) {
      if (flags.count("dataset") || flags.count("bench")) throw UsageError("--list lists every data set; drop --dataset and --bench");
      return list_datasets(flags.count("json") > 0);
    }
    if (flags.count("bench")) {
      if (flags.count("dataset")) throw UsageError("--bench uses synthetic data; drop --dataset");
      return run_bench(flags);
    }
    if (!flags.count("dataset")) throw UsageError("expected --dataset cifar10, cifar100 or fashion-mnist (got none)");
    const std::string name = flags["dataset"].as<std::string>();
    const std::string dir = flags.count("data-dir") ? flags["data-dir"].as<std::string>() : data::default_data_dir(name);
    if (dir.empty() && (name == "cifar10" || name == "cifar100")) {
      throw UsageError("expected --data-dir for " + name + " (got none); get the data with "
                       "'scripts/download_cifar.sh " + name + " DIR'");
    }
    const data::Dataset d = data::load_dataset(name, dir, data::DatasetOptions().coarse_labels(flags.count("coarse") > 0));
    const data::SplitStats train = data::compute_stats(d.train, d.num_classes());
    const data::SplitStats test = data::compute_stats(d.test, d.num_classes());
    if (flags.count("json")) {
      std::cout << nlohmann::json{{"dataset", d.name},
                                  {"data_dir", dir},
                                  {"train", to_json(train)},
                                  {"test", to_json(test)},
                                  {"classes", d.classes},
                                  {"normalization", {{"mean", d.mean}, {"std", d.std}}}}
                       .dump()
                << "\n";
    } else {
      std::cout << fmt::format("data set {} in \"{}\"\n", d.name, dir);
      print_split("train", train);
      print_split("test", test);
      std::cout << fmt::format("classes ({})  {}\n", d.num_classes(), fmt::join(d.classes, ", "))
                << fmt::format("normalization  mean {}  std {}\n", numbers(d.mean), numbers(d.std));
    }
    return kExitOk;
  });
}

}  // namespace propnet::cli
