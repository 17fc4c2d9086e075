// How the data sets are spelled in configs, flags and messages (propnet/choices.h).
#include <propnet/choices.h>
#include <propnet/data/dataset_kind.h>

namespace propnet {

template <>
const Spellings<data::DatasetKind>& spellings<data::DatasetKind>() {
  static const Spellings<data::DatasetKind> table{{data::DatasetKind::kCifar10, "cifar10"},
                                                  {data::DatasetKind::kCifar100, "cifar100"},
                                                  {data::DatasetKind::kFashionMnist, "fashion-mnist"}};
  return table;
}

}  // namespace propnet
