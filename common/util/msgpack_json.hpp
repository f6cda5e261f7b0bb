#pragma once
// Bridge between msgpack objects and nlohmann::json, for the free-form parts of the protocol
// (admin arguments and results). Depth and sizes are already bounded by the unpack limits.
#include <msgpack.hpp>
#include <nlohmann/json.hpp>

#include "common/util/expected.hpp"

namespace edgenas {

// Converts a decoded msgpack object to JSON. Fails on types JSON cannot hold (ext, bin).
Expected<nlohmann::json> msgpack_to_json(const msgpack::object& obj);

// Packs JSON as native msgpack (maps, arrays, strings, numbers, bool, nil).
void pack_json(msgpack::packer<msgpack::sbuffer>& pk, const nlohmann::json& j);

}  // namespace edgenas
