// What every choice enum's spelling shares; each layer spells its own enums beside them (src/config/spellings.cpp,
// src/nn/switches.cpp, src/models/spellings.cpp, src/data/spellings.cpp), so no layer includes one above it.
#include <propnet/choices.h>

#include <c10/util/Exception.h>

namespace propnet {

void throw_unspelled_value(int value) {
  TORCH_CHECK_VALUE(false, "expected a value of the enum's table (got the integer ", value, ")");
}

}  // namespace propnet
