#pragma once
// msgpack encoding and validating decoding of the schema, generated from each struct's
// fields(v) list. Decoding never trusts the input: unpack limits bound allocation before it
// happens, every field is type- and range-checked, and the first problem is reported with its
// path ("body.context.source.devices[1].free_nodes: ...").
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <msgpack.hpp>
#include <nlohmann/json.hpp>

#include "common/protocol/schema.hpp"
#include "common/util/expected.hpp"
#include "common/util/msgpack_json.hpp"
#include "common/util/utf8.hpp"

namespace edgenas::proto {

// The limits every decoder of outside bytes uses.
msgpack::unpack_limit wire_limits();

// Unpacks exactly one msgpack value from bytes (trailing bytes are an error).
Expected<msgpack::object_handle> unpack_bounded(std::string_view bytes);

namespace detail {

using Packer = msgpack::packer<msgpack::sbuffer>;

// Counts the fields a struct will write (optional ones only when present).
struct FieldCounter {
  uint32_t n = 0;
  template <class... A>
  void str(A&&...) {
    ++n;
  }
  void opt_str(std::string_view, const std::string& s) { n += s.empty() ? 0 : 1; }
  void opt_flag(std::string_view, bool b) { n += b ? 1 : 0; }
  template <class T, class... A>
  void opt_num(std::string_view, const T& x, A&&...) {
    n += x == T{} ? 0 : 1;
  }
  template <class... A>
  void num(A&&...) {
    ++n;
  }
  template <class... A>
  void flag(A&&...) {
    ++n;
  }
  template <class... A>
  void enumeration(A&&...) {
    ++n;
  }
  template <class... A>
  void list(A&&...) {
    ++n;
  }
  template <class... A>
  void id_list(A&&...) {
    ++n;
  }
  template <class... A>
  void obj(A&&...) {
    ++n;
  }
  template <class T>
  void opt_obj(std::string_view, const std::optional<T>& o) {
    n += o ? 1 : 0;
  }
  template <class... A>
  void any(A&&...) {
    ++n;
  }
};

// Cross-field validation, for the structs that declare it.
template <class T>
auto validate_if_declared(const T& v, int) -> decltype(v.validate()) {
  return v.validate();
}
template <class T>
Status validate_if_declared(const T&, long) {
  return ok_status();
}

template <class T>
void write_struct(Packer& pk, const T& value);

struct FieldWriter {
  Packer& pk;
  void key(std::string_view k) {
    pk.pack_str(static_cast<uint32_t>(k.size()))
        .pack_str_body(k.data(), static_cast<uint32_t>(k.size()));
  }
  // Strings leave as UTF-8 whatever they hold (a row stored before the decoder checked it).
  template <class F>
  void str(std::string_view k, const std::string& s, F&&, std::string_view) {
    key(k);
    pk.pack(utf8::repaired(s));
  }
  void opt_str(std::string_view k, const std::string& s) {
    if (s.empty()) return;
    key(k);
    pk.pack(utf8::repaired(s));
  }
  template <class T>
  void num(std::string_view k, const T& x, T, T) {
    key(k);
    pk.pack(x);
  }
  void flag(std::string_view k, bool b) {
    key(k);
    pk.pack(b);
  }
  // Written only when true; absent reads as false (older peers never send it).
  void opt_flag(std::string_view k, bool b) {
    if (b) flag(k, b);
  }
  // Written only when not zero; absent reads as zero (older peers never send it).
  template <class T>
  void opt_num(std::string_view k, const T& x, T lo, T hi) {
    if (x != T{}) num(k, x, lo, hi);
  }
  template <class E, class P>
  void enumeration(std::string_view k, const E& e, P&&) {
    key(k);
    pk.pack(std::string(to_string(e)));
  }
  template <class T>
  void list(std::string_view k, const std::vector<T>& items, std::size_t, std::size_t) {
    key(k);
    pk.pack_array(static_cast<uint32_t>(items.size()));
    for (const auto& item : items) write_struct(pk, item);
  }
  void id_list(std::string_view k, const std::vector<std::string>& ids, std::size_t) {
    key(k);
    pk.pack(ids);
  }
  template <class T>
  void obj(std::string_view k, const T& o) {
    key(k);
    write_struct(pk, o);
  }
  template <class T>
  void opt_obj(std::string_view k, const std::optional<T>& o) {
    if (!o) return;
    key(k);
    write_struct(pk, *o);
  }
  void any(std::string_view k, const nlohmann::json& j) {
    key(k);
    pack_json(pk, j);
  }
};

template <class T>
void write_struct(Packer& pk, const T& value) {
  auto& v = const_cast<T&>(value);  // fields() is shared with the reader; writing only reads
  FieldCounter counter;
  v.fields(counter);
  pk.pack_map(counter.n);
  FieldWriter writer{pk};
  v.fields(writer);
}

// Reads fields from one msgpack map; records the first error with its path.
class FieldReader {
 public:
  FieldReader(const msgpack::object& map, std::string path, std::optional<Error>& err,
              TextMode text = TextMode::strict)
      : map_(map), path_(std::move(path)), err_(err), text_(text) {
    if (map_.type != msgpack::type::MAP) fail(err::kBadField, "must be a map");
  }

  template <class F>
  void str(std::string_view k, std::string& out, F valid, std::string_view what) {
    const auto* o = required(k);
    if (!o) return;
    if (o->type != msgpack::type::STR) return fail_field(k, "must be a string");
    out.assign(o->via.str.ptr, o->via.str.size);
    if (!utf8_field(k, out)) return;
    if constexpr (!std::is_same_v<F, std::nullptr_t>) {
      if (!valid(out)) return fail_field(k, "must be " + std::string(what));
    }
  }
  void opt_str(std::string_view k, std::string& out) {
    const auto* o = find(k);
    if (!o || o->type == msgpack::type::NIL) return;
    if (o->type != msgpack::type::STR) return fail_field(k, "must be a string");
    out.assign(o->via.str.ptr, o->via.str.size);
    (void)utf8_field(k, out);
  }
  template <class T>
  void opt_num(std::string_view k, T& out, T min, T max) {
    const auto* o = find(k);
    if (!o || o->type == msgpack::type::NIL) return;
    num(k, out, min, max);
  }
  template <class T>
  void num(std::string_view k, T& out, T min, T max) {
    const auto* o = required(k);
    if (!o) return;
    if constexpr (std::is_floating_point_v<T>) {
      double v;
      if (o->type == msgpack::type::FLOAT32 || o->type == msgpack::type::FLOAT64) {
        v = o->via.f64;
      } else if (o->type == msgpack::type::POSITIVE_INTEGER) {
        v = static_cast<double>(o->via.u64);
      } else if (o->type == msgpack::type::NEGATIVE_INTEGER) {
        v = static_cast<double>(o->via.i64);
      } else {
        return fail_field(k, "must be a number");
      }
      if (!std::isfinite(v) || v < min || v > max) return out_of_range(k, min, max);
      out = static_cast<T>(v);
    } else {
      if (o->type == msgpack::type::POSITIVE_INTEGER) {
        if (max < 0 || o->via.u64 > static_cast<uint64_t>(max)) return out_of_range(k, min, max);
        T v = static_cast<T>(o->via.u64);
        if (v < min) return out_of_range(k, min, max);
        out = v;
      } else if (o->type == msgpack::type::NEGATIVE_INTEGER) {
        if constexpr (std::is_unsigned_v<T>) {
          return out_of_range(k, min, max);
        } else {
          if (o->via.i64 < static_cast<int64_t>(min) || o->via.i64 > static_cast<int64_t>(max)) {
            return out_of_range(k, min, max);
          }
          out = static_cast<T>(o->via.i64);
        }
      } else {
        return fail_field(k, "must be an integer");
      }
    }
  }
  void flag(std::string_view k, bool& out) {
    const auto* o = required(k);
    if (!o) return;
    if (o->type != msgpack::type::BOOLEAN) return fail_field(k, "must be true or false");
    out = o->via.boolean;
  }
  void opt_flag(std::string_view k, bool& out) {
    const auto* o = find(k);
    if (!o || o->type == msgpack::type::NIL) return;
    if (o->type != msgpack::type::BOOLEAN) return fail_field(k, "must be true or false");
    out = o->via.boolean;
  }
  template <class E, class P>
  void enumeration(std::string_view k, E& out, P parse) {
    std::string s;
    str(k, s, nullptr, "");
    if (err_) return;
    auto e = parse(s);
    if (!e)
      return fail_field(k, "'" + utf8::printable(s, 64) + "' is not one of the allowed names");
    out = *e;
  }
  template <class T>
  void list(std::string_view k, std::vector<T>& out, std::size_t min_items, std::size_t max_items) {
    const auto* o = required(k);
    if (!o) return;
    if (o->type != msgpack::type::ARRAY) return fail_field(k, "must be an array");
    const auto n = o->via.array.size;
    if (n < min_items || n > max_items) {
      return fail_field(k, "has " + std::to_string(n) + " items, allowed " +
                               std::to_string(min_items) + ".." + std::to_string(max_items));
    }
    out.clear();
    out.resize(n);
    for (uint32_t i = 0; i < n && !err_; ++i) {
      FieldReader sub(o->via.array.ptr[i], child(k) + "[" + std::to_string(i) + "]", err_, text_);
      if (!err_) out[i].fields(sub);
      if (!err_) sub.check(out[i]);
    }
  }
  void id_list(std::string_view k, std::vector<std::string>& out, std::size_t max_items) {
    const auto* o = required(k);
    if (!o) return;
    if (o->type != msgpack::type::ARRAY) return fail_field(k, "must be an array");
    if (o->via.array.size > max_items) return fail_field(k, "has too many items");
    out.clear();
    for (uint32_t i = 0; i < o->via.array.size; ++i) {
      const auto& item = o->via.array.ptr[i];
      if (item.type != msgpack::type::STR) return fail_field(k, "items must be strings");
      std::string s(item.via.str.ptr, item.via.str.size);
      if (!valid_id(s)) return fail_field(k, "items must be ids of [A-Za-z0-9._:@-]");
      out.push_back(std::move(s));
    }
  }
  template <class T>
  void obj(std::string_view k, T& out) {
    const auto* o = required(k);
    if (!o) return;
    FieldReader sub(*o, child(k), err_, text_);
    if (!err_) out.fields(sub);
    if (!err_) sub.check(out);
  }
  template <class T>
  void opt_obj(std::string_view k, std::optional<T>& out) {
    const auto* o = find(k);
    if (!o || o->type == msgpack::type::NIL) return;
    out.emplace();
    FieldReader sub(*o, child(k), err_, text_);
    if (!err_) out->fields(sub);
    if (!err_) sub.check(*out);
  }
  void any(std::string_view k, nlohmann::json& out) {
    const auto* o = find(k);
    if (!o) return;  // free-form fields default to {} when absent
    auto j = msgpack_to_json(*o, text_);
    if (!j) return fail_field(k, j.error().message);
    out = std::move(*j);
  }

  // Runs the struct's cross-field rules (if it declares validate()) once its fields are read.
  template <class T>
  void check(const T& value) {
    if (err_) return;
    if (auto s = validate_if_declared(value, 0); !s) {
      err_ = Error{std::string(err::kInvalid),
                   (path_.empty() ? "message" : path_) + ": " + s.error().message};
    }
  }

 private:
  const msgpack::object* find(std::string_view k) const {
    if (err_ || map_.type != msgpack::type::MAP) return nullptr;
    for (uint32_t i = 0; i < map_.via.map.size; ++i) {
      const auto& kv = map_.via.map.ptr[i];
      if (kv.key.type == msgpack::type::STR &&
          std::string_view(kv.key.via.str.ptr, kv.key.via.str.size) == k) {
        return &kv.val;
      }
    }
    return nullptr;
  }
  const msgpack::object* required(std::string_view k) {
    if (err_) return nullptr;
    const auto* o = find(k);
    if (!o) fail_field(k, "is missing");
    return o;
  }
  std::string child(std::string_view k) const {
    return path_.empty() ? std::string(k) : path_ + "." + std::string(k);
  }
  void fail(std::string_view code, const std::string& msg) {
    if (!err_) err_ = Error{std::string(code), (path_.empty() ? "message" : path_) + ": " + msg};
  }
  void fail_field(std::string_view k, const std::string& msg) {
    if (!err_) err_ = Error{std::string(err::kBadField), child(k) + ": " + msg};
  }
  // Strict: refuses a string that is not UTF-8. Repair: mends it in place.
  bool utf8_field(std::string_view k, std::string& s) {
    const auto at = utf8::first_invalid(s);
    if (at == utf8::kValid) return true;
    if (text_ == TextMode::repair) {
      s = utf8::repaired(s);
      return true;
    }
    fail_field(k, "is not valid UTF-8 (byte " + std::to_string(at) + ")");
    return false;
  }
  template <class T>
  void out_of_range(std::string_view k, T min, T max) {
    fail_field(k, "is out of range [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  }

  const msgpack::object& map_;
  std::string path_;
  std::optional<Error>& err_;
  TextMode text_;
};

}  // namespace detail

// Reads a struct from a decoded msgpack map; path prefixes error messages. TextMode::repair is
// for what this side stored itself (see msgpack_json.hpp); bytes from a peer are strict.
template <class T>
Expected<T> read_struct(const msgpack::object& obj, const std::string& path = "",
                        TextMode text = TextMode::strict) {
  T out{};
  std::optional<Error> err;
  detail::FieldReader reader(obj, path, err, text);
  if (!err) out.fields(reader);
  if (!err) reader.check(out);
  if (err) return *err;
  return out;
}

template <class T>
std::string pack_struct(const T& value) {
  msgpack::sbuffer buf;
  detail::Packer pk(buf);
  detail::write_struct(pk, value);
  return std::string(buf.data(), buf.size());
}

// --- JSON (files given to the CLIs, exports, store columns) ---------------------------------
template <class T>
nlohmann::json to_json(const T& value) {
  auto bytes = pack_struct(value);
  auto oh = msgpack::unpack(bytes.data(), bytes.size());
  return msgpack_to_json(oh.get()).value();
}

template <class T>
Expected<T> from_json(const nlohmann::json& j, const std::string& path = "") {
  std::vector<uint8_t> bytes;
  try {
    bytes = nlohmann::json::to_msgpack(j);
  } catch (const std::exception& e) {
    return Error{std::string(err::kMalformed), e.what()};
  }
  auto oh =
      unpack_bounded(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  if (!oh) return oh.error();
  return read_struct<T>(oh->get(), path);
}

// --- Envelope ---------------------------------------------------------------------------------
struct Header {
  int version = kProtocolVersion;
  MsgType type = MsgType::error;
  uint64_t msg_id = 0;
  std::string agent_id;  // "" for admin clients
  int64_t ts_ms = 0;
};

// A decoded envelope: header fields checked, body kept as a msgpack object for decode_body.
struct Envelope {
  Header header;
  msgpack::object_handle handle;
  msgpack::object body;
};

// Errors carry the codes of proto::err. When the header could be read before the failure,
// partial_header holds what was read, so a reply can be addressed.
struct EnvelopeError {
  Error error;
  std::optional<Header> partial_header;
};

std::variant<Envelope, EnvelopeError> decode_envelope(std::string_view bytes);

template <class T>
Expected<T> decode_body(const Envelope& env) {
  if (env.header.type != MsgTypeOf<T>::value) {
    return Error{std::string(err::kUnexpected),
                 "expected a " + std::string(to_string(MsgTypeOf<T>::value)) + " message"};
  }
  return read_struct<T>(env.body, "body");
}

std::string encode_raw(const Header& header, const std::string& packed_body);

template <class T>
std::string encode(Header header, const T& body) {
  header.type = MsgTypeOf<T>::value;
  return encode_raw(header, pack_struct(body));
}

}  // namespace edgenas::proto
