// How the config layer's enums are spelled in configs, flags and messages (propnet/choices.h).
#include <propnet/choices.h>
#include <propnet/config.h>

namespace propnet {

template <>
const Spellings<Amp>& spellings<Amp>() {
  static const Spellings<Amp> table{{Amp::kOff, "off"}, {Amp::kBf16, "bf16"}, {Amp::kFp16, "fp16"}};
  return table;
}

template <>
const Spellings<BatchScope>& spellings<BatchScope>() {
  static const Spellings<BatchScope> table{{BatchScope::kGlobal, "global"}, {BatchScope::kRank, "rank"}};
  return table;
}

template <>
const Spellings<SearchMethod>& spellings<SearchMethod>() {
  static const Spellings<SearchMethod> table{{SearchMethod::kGates, "gates"},
                                             {SearchMethod::kGreedy, "greedy"},
                                             {SearchMethod::kRandom, "random"},
                                             {SearchMethod::kExhaustive, "exhaustive"}};
  return table;
}

template <>
const Spellings<KeyType>& spellings<KeyType>() {
  static const Spellings<KeyType> table{{KeyType::kString, "string"}, {KeyType::kInteger, "integer"},
                                        {KeyType::kNumber, "number"}, {KeyType::kBool, "bool"},
                                        {KeyType::kChoice, "choice"}, {KeyType::kList, "list"},
                                        {KeyType::kSeeds, "seeds"},   {KeyType::kObject, "object"}};
  return table;
}

}  // namespace propnet
