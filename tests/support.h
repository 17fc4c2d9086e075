#pragma once
// Shared test helpers: a seeded fixture and a scratch directory.
#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <torch/utils.h>

namespace propnet::test {

/// Seeds LibTorch before every test so failures reproduce.
class Seeded : public ::testing::Test {
 protected:
  void SetUp() override { torch::manual_seed(0); }
};

/// A fresh directory for one test's files under $PROPNET_TEST_TMP (or the system temp dir).
inline std::filesystem::path scratch_dir(const std::string& name) {
  const char* root = std::getenv("PROPNET_TEST_TMP");
  std::filesystem::path dir = std::filesystem::path(root ? root : std::filesystem::temp_directory_path().string()) /
                              ("propnet-" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace propnet::test
