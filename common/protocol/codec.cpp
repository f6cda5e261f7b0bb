#include "common/protocol/codec.hpp"

#include "common/util/constants.hpp"

namespace edgenas::proto {

msgpack::unpack_limit wire_limits() {
  return msgpack::unpack_limit(limits::kMaxArrayItems, limits::kMaxMapPairs,
                               limits::kMaxStringBytes, limits::kMaxBinBytes, limits::kMaxExtBytes,
                               limits::kMaxDepth);
}

Expected<msgpack::object_handle> unpack_bounded(std::string_view bytes) {
  if (bytes.empty()) return Error{std::string(err::kMalformed), "empty message"};
  if (bytes.size() > static_cast<std::size_t>(limits::kMaxMessageBytes)) {
    return Error{std::string(err::kTooLarge),
                 "message of " + std::to_string(bytes.size()) + " bytes is over the limit"};
  }
  std::size_t offset = 0;
  try {
    auto oh = msgpack::unpack(bytes.data(), bytes.size(), offset, nullptr, nullptr, wire_limits());
    if (offset != bytes.size()) {
      return Error{std::string(err::kMalformed),
                   std::to_string(bytes.size() - offset) + " trailing bytes after the message"};
    }
    return oh;
  } catch (const msgpack::depth_size_overflow& e) {
    return Error{std::string(err::kTooLarge), std::string("nested too deep: ") + e.what()};
  } catch (const msgpack::size_overflow& e) {
    return Error{std::string(err::kTooLarge), std::string("over an unpack limit: ") + e.what()};
  } catch (const msgpack::insufficient_bytes&) {
    return Error{std::string(err::kMalformed), "truncated msgpack"};
  } catch (const std::bad_alloc&) {
    return Error{std::string(err::kTooLarge), "message needs too much memory"};
  } catch (const std::exception& e) {
    return Error{std::string(err::kMalformed), std::string("not msgpack: ") + e.what()};
  }
}

namespace {

// The envelope's own fields, read with the same FieldReader as bodies.
struct EnvelopeFields {
  int version = 0;
  std::string type;
  uint64_t msg_id = 0;
  std::string agent_id;
  int64_t ts_ms = 0;

  template <class V>
  void fields(V& v) {
    v.num("version", version, 0, 1'000'000);
    v.str("type", type, nullptr, "");
    v.num("msg_id", msg_id, uint64_t{0}, UINT64_MAX);
    v.opt_str("agent_id", agent_id);
    v.num("ts_ms", ts_ms, int64_t{0}, INT64_MAX);
  }
};

// What can be read of a header whose other fields are wrong, so the error reply names the
// message it refuses (msg_id) and reaches its agent (agent_id).
Header addressable_header(const msgpack::object& root) {
  Header h;
  for (uint32_t i = 0; i < root.via.map.size; ++i) {
    const auto& kv = root.via.map.ptr[i];
    if (kv.key.type != msgpack::type::STR) continue;
    const std::string_view key(kv.key.via.str.ptr, kv.key.via.str.size);
    if (key == "msg_id" && kv.val.type == msgpack::type::POSITIVE_INTEGER) {
      h.msg_id = kv.val.via.u64;
    } else if (key == "agent_id" && kv.val.type == msgpack::type::STR) {
      std::string id(kv.val.via.str.ptr, kv.val.via.str.size);
      if (valid_id(id)) h.agent_id = std::move(id);
    }
  }
  return h;
}

}  // namespace

std::variant<Envelope, EnvelopeError> decode_envelope(std::string_view bytes) {
  auto oh = unpack_bounded(bytes);
  if (!oh) return EnvelopeError{oh.error(), std::nullopt};
  const msgpack::object& root = oh->get();
  if (root.type != msgpack::type::MAP) {
    return EnvelopeError{{std::string(err::kMalformed), "message: must be a map (the envelope)"},
                         std::nullopt};
  }
  EnvelopeFields f;
  std::optional<Error> e;
  detail::FieldReader reader(root, "", e);
  f.fields(reader);
  if (e) return EnvelopeError{*e, addressable_header(root)};

  Header h;
  h.version = f.version;
  h.msg_id = f.msg_id;
  h.agent_id = f.agent_id;
  h.ts_ms = f.ts_ms;
  if (!h.agent_id.empty() && !valid_id(h.agent_id)) {
    auto addressable = h;
    addressable.agent_id.clear();
    return EnvelopeError{
        {std::string(err::kBadField), "agent_id: must be an id of [A-Za-z0-9._:@-]"}, addressable};
  }
  if (f.version != kProtocolVersion) {
    return EnvelopeError{
        {std::string(err::kBadVersion), "protocol version " + std::to_string(f.version) +
                                            " is not supported (this side speaks " +
                                            std::to_string(kProtocolVersion) + ")"},
        h};
  }
  auto type = msg_type_from_string(f.type);
  if (!type) {
    return EnvelopeError{{std::string(err::kUnknownType),
                          "unknown message type '" + utf8::printable(f.type, 64) + "'"},
                         h};
  }
  h.type = *type;

  const msgpack::object* body = nullptr;
  for (uint32_t i = 0; i < root.via.map.size; ++i) {
    const auto& kv = root.via.map.ptr[i];
    if (kv.key.type == msgpack::type::STR &&
        std::string_view(kv.key.via.str.ptr, kv.key.via.str.size) == "body") {
      body = &kv.val;
    }
  }
  if (!body) return EnvelopeError{{std::string(err::kBadField), "body: is missing"}, h};
  if (body->type != msgpack::type::MAP) {
    return EnvelopeError{{std::string(err::kBadField), "body: must be a map"}, h};
  }
  Envelope env;
  env.header = h;
  env.body = *body;
  env.handle = std::move(*oh);
  return env;
}

std::string encode_raw(const Header& header, const std::string& packed_body) {
  msgpack::sbuffer buf;
  detail::Packer pk(buf);
  const bool with_agent = !header.agent_id.empty();
  pk.pack_map(with_agent ? 6 : 5);
  pk.pack(std::string("version"));
  pk.pack(header.version);
  pk.pack(std::string("type"));
  pk.pack(std::string(to_string(header.type)));
  pk.pack(std::string("msg_id"));
  pk.pack(header.msg_id);
  if (with_agent) {
    pk.pack(std::string("agent_id"));
    pk.pack(header.agent_id);
  }
  pk.pack(std::string("ts_ms"));
  pk.pack(header.ts_ms);
  pk.pack(std::string("body"));
  buf.write(packed_body.data(), packed_body.size());  // msgpack values concatenate
  return std::string(buf.data(), buf.size());
}

}  // namespace edgenas::proto
