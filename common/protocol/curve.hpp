#pragma once
// CURVE keys (ZeroMQ's CurveZMQ: Curve25519 key exchange, every message encrypted and
// authenticated). Keys are Z85 text, 40 characters. A key-pair file is two lines of TOML,
//   public = "<40 chars>"
//   secret = "<40 chars>"
// written 0600; a public-key file has only the first line (a bare 40-character key is accepted
// too). Loading a key pair that others can read is refused: a leaked secret key is a leaked box.
#include <string>
#include <string_view>

#include <zmq.hpp>

#include "common/protocol/curve_key.hpp"
#include "common/util/expected.hpp"

namespace edgenas::proto {

struct CurveKeyPair {
  std::string public_key, secret_key;
};

bool valid_curve_key(std::string_view z85);
Expected<CurveKeyPair> generate_keypair();
Status save_keypair(const std::string& path, const CurveKeyPair& pair);  // 0600, atomic
Status save_public_key(const std::string& path, const std::string& public_key);
Expected<CurveKeyPair> load_keypair(const std::string& path);
// A key given directly (40 characters) or a file holding one.
Expected<std::string> load_public_key(const std::string& key_or_path);
// The daemon's own pair: loaded, or created on first start (and its .pub written beside).
Expected<CurveKeyPair> load_or_create_keypair(const std::string& path);

// Client side: the server's public key and our pair.
struct CurveClient {
  std::string server_public_key;
  CurveKeyPair keys;
};
void apply_client(zmq::socket_t& s, const CurveClient& c);
// Server side, with the ZAP domain its clients are checked in (ZMQ_ZAP_ENFORCE_DOMAIN on).
void apply_server(zmq::socket_t& s, const CurveKeyPair& keys, const std::string& zap_domain);

}  // namespace edgenas::proto
