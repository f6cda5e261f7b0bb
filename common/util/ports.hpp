#pragma once
// Binding a daemon's TCP ports after a restart. A port can still be held for a moment by what
// the previous process left (a child that has not yet died, a socket in the kernel's hands):
// the daemon says who holds it, when the OS tells, and retries for a short while before it
// gives up.
#include <cstdint>
#include <functional>
#include <string>

#include "common/util/expected.hpp"

namespace edgenas::net {

// The TCP port of an endpoint ("tcp://127.0.0.1:7700", "127.0.0.1:9464", "[::1]:80"); -1 when
// it names none (ipc://, inproc://, a wildcard port "*").
int endpoint_port(const std::string& endpoint);

// Who listens on TCP `port` on this machine, e.g. "pid 4242 (edgenas-predict)"; "" when the
// OS does not tell (another user's process, another network namespace, no /proc).
std::string port_holder(int port, const std::string& proc_root = "/proc");

// Calls bind() until it succeeds, fails for another reason than "address already in use", or
// retry_ms have passed (tries 100 ms apart). The first refusal is logged with the holder; the
// final error names it.
Status bind_with_retry(const std::function<Status()>& bind, const std::string& endpoint,
                       int64_t retry_ms);

}  // namespace edgenas::net
