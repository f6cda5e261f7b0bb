#pragma once
// Bridge between msgpack objects and nlohmann::json, for the free-form parts of the protocol
// (admin arguments and results). Depth and sizes are already bounded by the unpack limits.
#include <msgpack.hpp>
#include <nlohmann/json.hpp>

#include "common/util/expected.hpp"

namespace edgenas {

// What a decoder does with a string that is not UTF-8: refuse it (bytes from a peer), or repair
// it, each bad byte becoming U+FFFD (rows an older version stored before text was checked).
enum class TextMode { strict, repair };

// Converts a decoded msgpack object to JSON. Fails on types JSON cannot hold (ext, bin), and on
// strings (values or keys) that are not UTF-8 unless mode is repair.
Expected<nlohmann::json> msgpack_to_json(const msgpack::object& obj,
                                         TextMode mode = TextMode::strict);

// Packs JSON as native msgpack (maps, arrays, strings, numbers, bool, nil).
void pack_json(msgpack::packer<msgpack::sbuffer>& pk, const nlohmann::json& j);

}  // namespace edgenas
