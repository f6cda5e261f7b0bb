#pragma once
// The framed file format of edgenas's model files (a search's best.edgenas, a predictor's
// model.edgenasp): 8 magic bytes naming the kind, a u32 format version and a u32 header
// length (host byte order: little-endian on every box edgenas builds for), the header as JSON
// text, then the payload (weights) to the end of the file.
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/util/expected.hpp"

namespace edgenas::framed {

struct Kind {
  std::string_view magic;  // exactly 8 bytes
  uint32_t version;        // the one version this build reads and writes
  std::string_view name;   // for messages: "model", "predictor"
};

struct Frame {
  nlohmann::json header;
  std::string payload;
};

// The file's bytes.
std::string encode(const Kind& kind, const nlohmann::json& header, std::string_view payload);

// A frame from a file's bytes; `source` names the file in errors (code "bad_model": "not an
// edgenas <name> file", "<name> format version N (this build reads V)", "truncated header",
// "corrupt header: ...").
Expected<Frame> decode(const Kind& kind, std::string_view bytes, const std::string& source);

// The frame in `path` ("not_found" when it cannot be read).
Expected<Frame> load(const Kind& kind, const std::string& path);

// Written atomically (files::write_atomic).
Status save(const Kind& kind, const std::string& path, const nlohmann::json& header,
            std::string_view payload);

}  // namespace edgenas::framed
