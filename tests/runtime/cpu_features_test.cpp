// The CPU feature reader on /proc/cpuinfo texts of the two kinds of machine propnet runs on, and the
// bf16 warning it drives.
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <propnet/runtime.h>

namespace propnet {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Two processors each; the second's lines must not count.
const std::string kXeonWithAmx =
    "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz\n"
    "flags\t\t: fpu sse2 avx fma avx2 avx512f avx512bw avx512_bf16 amx_bf16 amx_tile amx_int8\n\n"
    "processor\t: 1\nmodel name\t: Other\nflags\t\t: fpu\n";
const std::string kEpycAvx2 =
    "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\nflags\t\t: fpu sse2 avx fma avx2\n\n"
    "processor\t: 1\nmodel name\t: AMD EPYC 7B13\nflags\t\t: fpu sse2 avx fma avx2 avx512f amx_bf16\n";

TEST(CpuFeaturesTest, ReadsTheModelAndTheFeaturesOfTheFirstProcessor) {
  const CpuFeatures xeon = parse_cpuinfo(kXeonWithAmx);
  EXPECT_EQ(xeon.model, "Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz");
  EXPECT_THAT(xeon.names(), ElementsAre("avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16"));
  EXPECT_TRUE(xeon.has_bf16_units());

  const CpuFeatures epyc = parse_cpuinfo(kEpycAvx2);
  EXPECT_EQ(epyc.model, "AMD EPYC 7B13");
  EXPECT_THAT(epyc.names(), ElementsAre("avx2", "fma"));
  EXPECT_FALSE(epyc.has_bf16_units());
  EXPECT_EQ(epyc.summary(), "AMD EPYC 7B13 (avx2 fma)");
  EXPECT_EQ(CpuFeatures{}.summary(), "model unknown (no AVX2)");

  // Only AVX512-BF16 (Cooper Lake, Zen 4) is hardware for bf16 too.
  EXPECT_TRUE(parse_cpuinfo("model name : Zen 4\nflags : avx2 avx512f avx512_bf16\n").has_bf16_units());
  // "flags" and "model name" are keys, not prefixes of other keys.
  EXPECT_FALSE(parse_cpuinfo("flagsx : amx_bf16\n").amx_bf16);
  const CpuFeatures unknown = parse_cpuinfo("");
  EXPECT_EQ(unknown.model, "");
  EXPECT_TRUE(unknown.names().empty());
}

TEST(CpuFeaturesTest, Bf16WarnsInOneLineOnlyWithoutBf16Units) {
  const std::string warning = bf16_cpu_warning(parse_cpuinfo(kEpycAvx2));
  EXPECT_THAT(warning, HasSubstr("AMD EPYC 7B13"));
  EXPECT_THAT(warning, HasSubstr("no AMX-BF16 and no AVX512-BF16"));
  EXPECT_THAT(warning, HasSubstr("much slower than fp32"));
  EXPECT_EQ(warning.find('\n'), std::string::npos);
  EXPECT_EQ(bf16_cpu_warning(parse_cpuinfo(kXeonWithAmx)), "");
  EXPECT_THAT(bf16_cpu_warning(CpuFeatures{}), HasSubstr("model unknown"));
}

TEST(CpuFeaturesTest, ThisMachineIsReadOnceAndReportedByRuntimeInfo) {
  EXPECT_EQ(&cpu_features(), &cpu_features());
  EXPECT_EQ(runtime_info().cpu.names(), cpu_features().names());
  EXPECT_EQ(runtime_info().cpu.model, cpu_features().model);
}

}  // namespace
}  // namespace propnet
