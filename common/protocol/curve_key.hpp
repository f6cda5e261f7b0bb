#pragma once
// The text form of a CURVE key, without libzmq: 40 characters of the Z85 alphabet (32 bytes).
// The pure cores use this; common/protocol/curve.hpp adds the checks that need libzmq.
#include <string_view>

namespace edgenas::proto {

inline bool looks_like_curve_key(std::string_view k) {
  constexpr std::string_view kZ85 =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
  if (k.size() != 40) return false;
  for (char c : k)
    if (kZ85.find(c) == std::string_view::npos) return false;
  return true;
}

}  // namespace edgenas::proto
