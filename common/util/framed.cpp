#include "common/util/framed.hpp"

#include <cstring>
#include <fstream>
#include <iterator>

#include "common/util/errors.hpp"
#include "common/util/files.hpp"

namespace edgenas::framed {
namespace {

constexpr std::size_t kPrefixBytes = 16;           // magic, version, header length
constexpr std::size_t kMaxHeaderBytes = 16 << 20;  // a header is a few kB; more is corruption

uint32_t read_u32(std::string_view bytes, std::size_t at) {
  uint32_t v = 0;
  std::memcpy(&v, bytes.data() + at, sizeof v);
  return v;
}

void append_u32(std::string& out, uint32_t v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

}  // namespace

std::string encode(const Kind& kind, const nlohmann::json& header, std::string_view payload) {
  const std::string h = header.dump();
  std::string out;
  out.reserve(kPrefixBytes + h.size() + payload.size());
  out.append(kind.magic);
  append_u32(out, kind.version);
  append_u32(out, static_cast<uint32_t>(h.size()));
  out += h;
  out.append(payload);
  return out;
}

Expected<Frame> decode(const Kind& kind, std::string_view bytes, const std::string& source) {
  auto bad = [&](const std::string& msg) { return Error{errc::kBadModel, source + ": " + msg}; };
  const std::string name(kind.name);
  if (bytes.size() < kPrefixBytes || bytes.substr(0, kind.magic.size()) != kind.magic)
    return bad("not an edgenas " + name + " file");
  const uint32_t version = read_u32(bytes, 8), len = read_u32(bytes, 12);
  if (version != kind.version)
    return bad(name + " format version " + std::to_string(version) + " (this build reads " +
               std::to_string(kind.version) + ")");
  if (len > bytes.size() - kPrefixBytes || len > kMaxHeaderBytes) return bad("truncated header");
  Frame f;
  try {
    f.header = nlohmann::json::parse(bytes.substr(kPrefixBytes, len));
  } catch (const std::exception& e) {
    return bad(std::string("corrupt header: ") + e.what());
  }
  f.payload = std::string(bytes.substr(kPrefixBytes + len));
  return f;
}

Expected<Frame> load(const Kind& kind, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Error{errc::kNotFound, path + ": cannot open " + std::string(kind.name) + " file"};
  const std::string all((std::istreambuf_iterator<char>(in)), {});
  return decode(kind, all, path);
}

Status save(const Kind& kind, const std::string& path, const nlohmann::json& header,
            std::string_view payload) {
  return files::write_atomic(path, encode(kind, header, payload));
}

}  // namespace edgenas::framed
