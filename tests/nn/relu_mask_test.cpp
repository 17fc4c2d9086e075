#include <sstream>
#include <vector>

#include <c10/util/Exception.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <propnet/nn/relu_mask.h>

namespace propnet {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

TEST(ReluMaskTest, RatioIsReducedAsThePaperWritesIt) {
  EXPECT_EQ(ReluMask::paired(2).ratio(), "1:1");
  EXPECT_EQ(ReluMask({false, true}).ratio(), "2:1");
  EXPECT_EQ(ReluMask({false, true, true}).ratio(), "3:2");
  EXPECT_EQ(ReluMask({true, false, true, true}).ratio(), "4:3");
  EXPECT_EQ(ReluMask({false, true, false, true}).ratio(), "2:1");
  EXPECT_EQ(ReluMask({false, false}).ratio(), "1:0");
}

TEST(ReluMaskTest, CountsUnitsAndKeptRelus) {
  const ReluMask mask = ReluMask::parse("0110");
  EXPECT_EQ(mask.units(), 4);
  EXPECT_EQ(mask.relus(), 2);
  EXPECT_FALSE(mask.keeps(0));
  EXPECT_TRUE(mask.keeps(1));
  EXPECT_FALSE(mask.all());
  EXPECT_TRUE(ReluMask::paired(3).all());
}

TEST(ReluMaskTest, TextRoundTrips) {
  for (const char* text : {"1", "01", "011", "1011", "0000"}) {
    EXPECT_EQ(ReluMask::parse(text).to_string(), text);
  }
}

TEST(ReluMaskTest, PrintsAsAList) {
  std::ostringstream out;
  out << ReluMask::parse("01");
  EXPECT_EQ(out.str(), "[0,1]");
}

TEST(ReluMaskTest, CycleRepeatsTheMaskFromAnOffset) {
  const ReluMask mask = ReluMask::parse("01");
  EXPECT_EQ(mask.cycle(0, 5).to_string(), "01010");
  EXPECT_EQ(mask.cycle(27, 3).to_string(), "101");  // the plain-84 stage boundary (spec §2.2)
}

TEST(ReluMaskTest, RejectsOtherCharactersWithTheirPosition) {
  EXPECT_THAT([] { ReluMask::parse("01x1"); },
              ThrowsMessage<c10::ValueError>(HasSubstr("(got \"01x1\" with 'x' at position 2)")));
  EXPECT_THAT([] { ReluMask::parse(""); }, ThrowsMessage<c10::ValueError>(HasSubstr("empty string")));
}

TEST(ReluMaskTest, AnEmptyMaskCannotBeConstructed) {
  // It would make cycle() take a modulo by zero.
  EXPECT_THAT([] { ReluMask(std::vector<bool>{}); },
              ThrowsMessage<c10::ValueError>(HasSubstr("expected at least one site (got an empty mask)")));
  EXPECT_THAT([] { ReluMask({}); }, ThrowsMessage<c10::ValueError>(HasSubstr("at least one site")));
}

TEST(ReluMaskTest, RejectsOutOfRangeSites) {
  EXPECT_THROW(ReluMask::parse("01").keeps(2), c10::IndexError);
}

}  // namespace
}  // namespace propnet
