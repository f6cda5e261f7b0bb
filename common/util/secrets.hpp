#pragma once
// Secrets for logins (the web console's tokens and sessions), from libsodium: random bytes
// from the kernel's generator, SHA-256, and comparison in constant time.
#include <string>
#include <string_view>

namespace edgenas::secrets {

// `bytes` random bytes as lower-case hex (2 × bytes characters).
std::string random_hex(std::size_t bytes);
// SHA-256 of `data`, as 64 lower-case hex characters.
std::string sha256_hex(std::string_view data);
// a == b, in time that depends only on the lengths.
bool equal(std::string_view a, std::string_view b);

}  // namespace edgenas::secrets
