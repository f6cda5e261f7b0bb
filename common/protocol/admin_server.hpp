#pragma once
// The serving side of admin-style request/response on a ROUTER socket: the coordinator's admin
// port and the agent's local socket. Route frames (the ROUTER routing id, and the empty
// delimiter of a REQ client) are kept as strings so a reply can also be sent later.
#include <optional>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "common/protocol/codec.hpp"

namespace edgenas::proto {

struct AdminCall {
  std::vector<std::string> route;
  Expected<AdminRequest> request;  // or why the bytes are not a valid admin request
  std::string peer_key;            // the caller's CURVE public key (Z85); "" without CURVE
};

// The next well-framed request waiting on the socket (non-blocking), or nullopt when none.
std::optional<AdminCall> recv_admin(zmq::socket_t& router);
void send_admin(zmq::socket_t& router, const std::vector<std::string>& route,
                const AdminResponse& response, uint64_t msg_id, int64_t ts_ms);
// The response for a request that could not be decoded.
AdminResponse admin_error(const Error& e);

}  // namespace edgenas::proto
