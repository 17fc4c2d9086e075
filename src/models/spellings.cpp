// How the models layer's enums are spelled in configs, flags and messages (propnet/choices.h).
#include <propnet/choices.h>
#include <propnet/models/network_spec.h>

namespace propnet {

template <>
const Spellings<models::PlainIndexing>& spellings<models::PlainIndexing>() {
  static const Spellings<models::PlainIndexing> table{{models::PlainIndexing::kGlobal, "global"},
                                                      {models::PlainIndexing::kPerStage, "per-stage"}};
  return table;
}

}  // namespace propnet
