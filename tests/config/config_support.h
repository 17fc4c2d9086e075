#pragma once
// Helpers of the config tests: parse a text as "t.json" and expect its error.
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <c10/util/Exception.h>

#include <propnet/config.h>

namespace propnet::test {

// A valid config whose "train" object is `train` (JSON text, without braces).
inline std::string with_train(const std::string& train) {
  return R"({"network": {"arch": "preresnet", "depth": 110}, "train": {)" + train + "}}";
}

inline ExperimentConfig parse(const std::string& text) { return parse_config(text, "t.json"); }

inline void expect_error(const std::string& text, const std::string& message) {
  EXPECT_THAT([&] { parse(text); }, ::testing::ThrowsMessage<c10::ValueError>(::testing::HasSubstr(message))) << text;
}

}  // namespace propnet::test
