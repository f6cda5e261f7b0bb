#include "common/protocol/curve.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/util/files.hpp"

namespace edgenas::proto {
namespace fs = std::filesystem;

namespace {

// ZMQ_ZAP_ENFORCE_DOMAIN (a draft option in libzmq 4.3; Debian's build accepts it).
constexpr int kZapEnforceDomain = 93;

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The value of `name = "..."` in a key file.
std::string field(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string k = line.substr(0, eq), v = line.substr(eq + 1);
    auto trim = [](std::string s) {
      const auto a = s.find_first_not_of(" \t\"'"), b = s.find_last_not_of(" \t\"'\r");
      return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
    };
    if (trim(k) == name) return trim(v);
  }
  return "";
}

// A key file, its directory made first; the permissions are set before the secret goes in.
Status write_file(const std::string& path, const std::string& text, fs::perms perms) {
  std::error_code ec;
  if (!fs::path(path).parent_path().empty())
    fs::create_directories(fs::path(path).parent_path(), ec);
  auto written = files::write_atomic(path, text, perms);
  if (!written) return Error{"key", written.error().message};
  return ok_status();
}

}  // namespace

bool valid_curve_key(std::string_view k) {
  if (!looks_like_curve_key(k)) return false;
  uint8_t out[32];
  return zmq_z85_decode(out, std::string(k).c_str()) != nullptr;
}

Expected<CurveKeyPair> generate_keypair() {
  char pub[41], sec[41];
  if (zmq_curve_keypair(pub, sec) != 0)
    return Error{"key", "this libzmq cannot make CURVE keys (built without libsodium?)"};
  return CurveKeyPair{pub, sec};
}

Status save_keypair(const std::string& path, const CurveKeyPair& p) {
  return write_file(path,
                    "# edgenas CURVE key pair: keep the secret key private\npublic = \"" +
                        p.public_key + "\"\nsecret = \"" + p.secret_key + "\"\n",
                    fs::perms::owner_read | fs::perms::owner_write);
}

Status save_public_key(const std::string& path, const std::string& public_key) {
  return write_file(path, "# edgenas CURVE public key\npublic = \"" + public_key + "\"\n",
                    fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                        fs::perms::others_read);
}

Expected<CurveKeyPair> load_keypair(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Error{"key", "no key file at " + path};
  if (st.st_mode & (S_IRWXG | S_IRWXO)) {
    return Error{"key", path + " can be read by other users; chmod 600 it (it holds a secret key)"};
  }
  const std::string text = read_all(path);
  CurveKeyPair p{field(text, "public"), field(text, "secret")};
  if (!valid_curve_key(p.public_key) || !valid_curve_key(p.secret_key))
    return Error{"key", path +
                            " is not an edgenas key pair (public = \"…\", secret = \"…\", 40 "
                            "Z85 characters each)"};
  return p;
}

Expected<std::string> load_public_key(const std::string& key_or_path) {
  // A file first: Z85 includes '/' and '.', so a 40-character path is also a valid-looking key.
  std::error_code ec;
  if (!fs::is_regular_file(key_or_path, ec)) {
    if (valid_curve_key(key_or_path)) return key_or_path;
    return Error{"key", "'" + key_or_path + "' is neither a 40-character key nor a key file"};
  }
  const std::string text = read_all(key_or_path);
  std::string k = field(text, "public");
  if (k.empty()) {  // a bare key on a line of its own
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line))
      if (valid_curve_key(line)) k = line;
  }
  if (!valid_curve_key(k)) return Error{"key", key_or_path + " holds no CURVE public key"};
  return k;
}

Expected<CurveKeyPair> load_or_create_keypair(const std::string& path) {
  if (fs::exists(path)) return load_keypair(path);
  auto p = generate_keypair();
  if (!p) return p.error();
  if (auto s = save_keypair(path, *p); !s) return s.error();
  const std::string pub = fs::path(path).replace_extension(".pub").string();
  if (auto s = save_public_key(pub, p->public_key); !s) return s.error();
  return p;
}

void apply_client(zmq::socket_t& s, const CurveClient& c) {
  s.set(zmq::sockopt::curve_serverkey, c.server_public_key);
  s.set(zmq::sockopt::curve_publickey, c.keys.public_key);
  s.set(zmq::sockopt::curve_secretkey, c.keys.secret_key);
}

void apply_server(zmq::socket_t& s, const CurveKeyPair& keys, const std::string& zap_domain) {
  s.set(zmq::sockopt::curve_server, true);
  s.set(zmq::sockopt::curve_secretkey, keys.secret_key);
  s.set(zmq::sockopt::zap_domain, zap_domain);
  const int one = 1;
  zmq_setsockopt(s.handle(), kZapEnforceDomain, &one, sizeof one);
}

}  // namespace edgenas::proto
