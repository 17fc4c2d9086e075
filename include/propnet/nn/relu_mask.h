#pragma once
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace propnet {

/// Which of a module's ReLU sites keep their ReLU.
///
/// A paired module keeps every ReLU (conv:ReLU 1:1); the paper's 2:1 proportional module is
/// `ReluMask{false, true}`. Structure is data: blocks never hard-code which ReLU is gone.
/// Removing a ReLU never removes the BN beside it (paper §II.B).
class ReluMask {
 public:
  /// Throws c10::ValueError for an empty mask: every mask has at least one site.
  ReluMask(std::initializer_list<bool> keep);
  explicit ReluMask(std::vector<bool> keep);

  /// All `units` ReLUs kept (the paired module).
  static ReluMask paired(int64_t units);
  /// Parses "0110"-style text ('1' keep, '0' removed). '.', '_' and spaces may separate units
  /// ("01.01.11") and are ignored; anything else throws c10::ValueError.
  static ReluMask parse(std::string_view text);

  int64_t units() const noexcept;   ///< N, the number of sites (one per conv unit).
  int64_t relus() const noexcept;   ///< M, the number of ReLUs kept.
  bool keeps(int64_t unit) const;   ///< Whether site `unit` keeps its ReLU.
  bool all() const noexcept;        ///< True for the paired module.
  /// Conv:ReLU reduced as the paper writes it: {1,1} -> "1:1", {0,1} -> "2:1", {0,1,1} -> "3:2".
  std::string ratio() const;
  /// The mask as text, "01" for {false, true}; `parse(to_string())` round-trips.
  std::string to_string() const;
  /// The mask of `count` sites that repeats this one cyclically from site `offset` on.
  /// The plain network slices one network-wide mask this way (spec §2.2).
  ReluMask cycle(int64_t offset, int64_t count) const;
  /// Sites [offset, offset + count) of this mask; throws c10::IndexError past its end.
  ReluMask slice(int64_t offset, int64_t count) const;
  /// This mask followed by `tail`.
  ReluMask concat(const ReluMask& tail) const;

  friend bool operator==(const ReluMask& a, const ReluMask& b) { return a.keep_ == b.keep_; }
  friend bool operator!=(const ReluMask& a, const ReluMask& b) { return !(a == b); }

 private:
  std::vector<bool> keep_;          // private on purpose: never expose vector<bool> proxies
};

/// '.', '_' or ' ': what may separate the units of a mask's text.
bool is_mask_separator(char c);

/// Reduces a conv:ReLU count to the paper's form: (4, 2) -> "2:1", (3, 0) -> "1:0" (no ReLU left).
std::string reduced_ratio(int64_t convs, int64_t relus);

std::ostream& operator<<(std::ostream& stream, const ReluMask& mask);  // prints [0,1]

}  // namespace propnet
