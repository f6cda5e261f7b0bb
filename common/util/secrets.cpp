#include "common/util/secrets.hpp"

#include <sodium.h>

#include <stdexcept>
#include <vector>

namespace edgenas::secrets {
namespace {

void ready() {
  // sodium_init is idempotent and thread-safe; < 0 only when no entropy source can be opened.
  if (sodium_init() < 0) throw std::runtime_error("libsodium cannot start (no entropy source)");
}

std::string hex(const unsigned char* p, std::size_t n) {
  std::string out(2 * n + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), p, n);
  out.pop_back();
  return out;
}

}  // namespace

std::string random_hex(std::size_t bytes) {
  ready();
  std::vector<unsigned char> buf(bytes);
  randombytes_buf(buf.data(), buf.size());
  return hex(buf.data(), buf.size());
}

std::string sha256_hex(std::string_view data) {
  ready();
  unsigned char out[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(out, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  return hex(out, sizeof out);
}

bool equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace edgenas::secrets
