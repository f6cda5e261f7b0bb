#include "common/util/msgpack_json.hpp"

#include "common/util/utf8.hpp"

namespace edgenas {

Expected<nlohmann::json> msgpack_to_json(const msgpack::object& obj, TextMode mode) {
  using nlohmann::json;
  switch (obj.type) {
    case msgpack::type::NIL:
      return json(nullptr);
    case msgpack::type::BOOLEAN:
      return json(obj.via.boolean);
    case msgpack::type::POSITIVE_INTEGER:
      return json(obj.via.u64);
    case msgpack::type::NEGATIVE_INTEGER:
      return json(obj.via.i64);
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      return json(obj.via.f64);
    case msgpack::type::STR: {
      std::string s(obj.via.str.ptr, obj.via.str.size);
      if (const auto at = utf8::first_invalid(s); at != utf8::kValid) {
        if (mode == TextMode::repair) return json(utf8::repaired(s));
        return Error{"bad_field", "a string is not valid UTF-8 (byte " + std::to_string(at) + ")"};
      }
      return json(std::move(s));
    }
    case msgpack::type::ARRAY: {
      json arr = json::array();
      for (uint32_t i = 0; i < obj.via.array.size; ++i) {
        auto item = msgpack_to_json(obj.via.array.ptr[i], mode);
        if (!item) return item.error();
        arr.push_back(std::move(*item));
      }
      return arr;
    }
    case msgpack::type::MAP: {
      json out = json::object();
      for (uint32_t i = 0; i < obj.via.map.size; ++i) {
        const auto& kv = obj.via.map.ptr[i];
        if (kv.key.type != msgpack::type::STR) {
          return Error{"malformed", "map keys must be strings"};
        }
        std::string key(kv.key.via.str.ptr, kv.key.via.str.size);
        if (!utf8::valid(key)) {
          if (mode == TextMode::strict) return Error{"bad_field", "a map key is not valid UTF-8"};
          key = utf8::repaired(key);
        }
        auto val = msgpack_to_json(kv.val, mode);
        if (!val) return val.error();
        out[std::move(key)] = std::move(*val);
      }
      return out;
    }
    default:
      return Error{"malformed", "binary and extension values are not allowed here"};
  }
}

void pack_json(msgpack::packer<msgpack::sbuffer>& pk, const nlohmann::json& j) {
  using nlohmann::json;
  switch (j.type()) {
    case json::value_t::null:
    case json::value_t::discarded:
      pk.pack_nil();
      break;
    case json::value_t::boolean:
      pk.pack(j.get<bool>());
      break;
    case json::value_t::number_integer:
      pk.pack(j.get<int64_t>());
      break;
    case json::value_t::number_unsigned:
      pk.pack(j.get<uint64_t>());
      break;
    case json::value_t::number_float:
      pk.pack(j.get<double>());
      break;
    case json::value_t::string:
      pk.pack(utf8::repaired(j.get_ref<const std::string&>()));
      break;
    case json::value_t::array:
      pk.pack_array(static_cast<uint32_t>(j.size()));
      for (const auto& item : j) pack_json(pk, item);
      break;
    case json::value_t::object:
      pk.pack_map(static_cast<uint32_t>(j.size()));
      for (const auto& [k, v] : j.items()) {
        pk.pack(utf8::repaired(k));
        pack_json(pk, v);
      }
      break;
    case json::value_t::binary:
      pk.pack_nil();
      break;
  }
}

}  // namespace edgenas
