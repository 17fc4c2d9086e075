#include "metrics_io.h"

#include <fstream>

#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>

#include <propnet/atomic_file.h>

namespace propnet::train::detail {
namespace {

nlohmann::json to_json(const EpochMetrics& m) {
  nlohmann::json row = {{"epoch", m.epoch}, {"lr", m.lr}};
  if (m.lr_start != m.lr) row["lr_start"] = m.lr_start;  // the lr dropped during the epoch
  row["train_loss"] = m.train_loss;
  row["train_acc"] = m.train_acc;
  if (m.has_test) {
    row["test_loss"] = m.test_loss;
    row["test_acc"] = m.test_acc;
  }
  if (m.has_val) {
    row["val_loss"] = m.val_loss;
    row["val_acc"] = m.val_acc;
  }
  row["epoch_seconds"] = m.seconds;
  row["images_per_s"] = m.images_per_s;
  return row;
}

EpochMetrics from_json(const nlohmann::json& j) {
  EpochMetrics m;
  m.epoch = j.at("epoch").get<int64_t>();
  m.lr = j.at("lr").get<double>();
  m.lr_start = j.contains("lr_start") ? j.at("lr_start").get<double>() : m.lr;
  m.train_loss = j.at("train_loss").get<double>();
  m.train_acc = j.at("train_acc").get<double>();
  m.has_test = j.contains("test_loss");
  if (m.has_test) {
    m.test_loss = j.at("test_loss").get<double>();
    m.test_acc = j.at("test_acc").get<double>();
  }
  m.has_val = j.contains("val_loss");
  if (m.has_val) {
    m.val_loss = j.at("val_loss").get<double>();
    m.val_acc = j.at("val_acc").get<double>();
  }
  m.seconds = j.at("epoch_seconds").get<double>();
  m.images_per_s = j.at("images_per_s").get<double>();
  return m;
}

}  // namespace

std::string metrics_to_json(const std::vector<EpochMetrics>& metrics) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& m : metrics) rows.push_back(to_json(m));
  return rows.dump();
}

std::vector<EpochMetrics> metrics_from_json(const std::string& text, const std::string& source) {
  try {
    std::vector<EpochMetrics> metrics;
    for (const auto& row : nlohmann::json::parse(text)) metrics.push_back(from_json(row));
    return metrics;
  } catch (const nlohmann::json::exception& e) {
    TORCH_CHECK(false, "\"", source, "\": unreadable metrics (", e.what(), ")");
  }
}

void write_metrics_files(const SeedFiles& files, const std::vector<EpochMetrics>& metrics) {
  write_atomically(files.metrics_jsonl, [&](const std::filesystem::path& temp) {
    std::ofstream out(temp);
    for (const auto& m : metrics) out << to_json(m).dump() << "\n";
    TORCH_CHECK(out.good(), "train: cannot write \"", temp.string(), "\"");
  });
  write_atomically(files.metrics_csv, [&](const std::filesystem::path& temp) {
    std::ofstream out(temp);
    // Validation columns go last, so that the columns of runs without them keep their positions.
    const bool val = !metrics.empty() && metrics.front().has_val;
    out << "epoch,lr,train_loss,train_acc,test_loss,test_acc,epoch_seconds,images_per_s" << (val ? ",val_loss,val_acc" : "")
        << "\n";
    out.precision(10);
    for (const auto& m : metrics) {
      out << m.epoch << "," << m.lr << "," << m.train_loss << "," << m.train_acc << ",";
      if (m.has_test) out << m.test_loss << "," << m.test_acc;  // empty cells without a test pass (a search)
      else out << ",";
      out << "," << m.seconds << "," << m.images_per_s;
      if (val) out << "," << m.val_loss << "," << m.val_acc;
      out << "\n";
    }
    TORCH_CHECK(out.good(), "train: cannot write \"", temp.string(), "\"");
  });
}

}  // namespace propnet::train::detail
