#pragma once
// Text from outside (an agent's message, an old store's row, a file) is bytes until checked.
// The decoders refuse strings that are not UTF-8; everything the daemons and CLIs write goes
// through these helpers, so no output (a reply, JSON, a table, a log line) carries invalid
// UTF-8 or a terminal's control bytes, even from rows stored before the check existed.
#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace edgenas::utf8 {

inline constexpr std::size_t kValid = std::string_view::npos;

// The offset of the first byte that is not part of well-formed UTF-8 (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF), or kValid.
std::size_t first_invalid(std::string_view s);
inline bool valid(std::string_view s) {
  return first_invalid(s) == kValid;
}

// s with every byte that is not well-formed UTF-8 replaced by U+FFFD.
std::string repaired(std::string_view s);

// s for a message or a table cell: invalid bytes and control characters as \xNN, at most
// max_bytes of it (then "...").
std::string printable(std::string_view s, std::size_t max_bytes = 200);

// JSON text that never throws on a string that is not UTF-8 (its bad bytes become U+FFFD).
std::string json_text(const nlohmann::json& j, int indent = -1);

}  // namespace edgenas::utf8
