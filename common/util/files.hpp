#pragma once
// Whole files, read and written the one way every daemon and tool here does it: a file that is
// replaced is written under a temporary name, synced and renamed over the old one, so a crash
// leaves either the old file or the new one, never half of either.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/util/expected.hpp"

namespace edgenas::files {

// Writes `bytes` to `path` atomically (PATH.tmp, fsync, rename). With `perms` the temporary
// file has those permissions before any byte goes in (for secrets). Error code "io".
Status write_atomic(const std::string& path, std::string_view bytes,
                    std::optional<std::filesystem::perms> perms = std::nullopt);

// The JSON document in `path`, pretty-printed with two-space indents and UTF-8 mended.
Status write_json_atomic(const std::string& path, const nlohmann::json& j);

// The JSON document in `path`. Errors: "not_found" (cannot be read), "bad_json" (not JSON;
// the message names the file and what the parser said).
Expected<nlohmann::json> read_json(const std::string& path);

// Copies `from` to `to` atomically, as write_atomic writes. Error code "io".
Status copy_atomic(const std::string& from, const std::string& to);

// Creates `dir` and its parents when missing. Error code "io", naming the directory.
Status create_dirs(const std::string& dir);

// The last non-empty line of a text file (a child's log): "" when there is none.
std::string last_line(const std::string& path);

}  // namespace edgenas::files
