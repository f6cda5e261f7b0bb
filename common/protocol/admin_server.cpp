#include "common/protocol/admin_server.hpp"

#include <zmq_addon.hpp>

#include "common/util/log.hpp"

namespace edgenas::proto {

std::optional<AdminCall> recv_admin(zmq::socket_t& router) {
  while (true) {
    std::vector<zmq::message_t> frames;
    try {
      if (!zmq::recv_multipart(router, std::back_inserter(frames), zmq::recv_flags::dontwait))
        return std::nullopt;
    } catch (const zmq::error_t& e) {
      log::warn("admin receive failed", {{"error", e.what()}});
      return std::nullopt;
    }
    if (frames.size() < 2) continue;  // no route or no payload: nothing to answer
    std::vector<std::string> route;
    for (size_t k = 0; k + 1 < frames.size(); ++k) route.push_back(frames[k].to_string());
    std::string peer_key;  // set by the ZAP handler as the message's User-Id under CURVE
    try {
      peer_key = frames.back().gets("User-Id");
    } catch (const zmq::error_t&) {
    }
    auto decoded = decode_envelope(frames.back().to_string_view());
    if (auto* bad = std::get_if<EnvelopeError>(&decoded))
      return AdminCall{std::move(route), bad->error, std::move(peer_key)};
    return AdminCall{std::move(route), decode_body<AdminRequest>(std::get<Envelope>(decoded)),
                     std::move(peer_key)};
  }
}

void send_admin(zmq::socket_t& router, const std::vector<std::string>& route,
                const AdminResponse& response, uint64_t msg_id, int64_t ts_ms) {
  Header h;
  h.msg_id = msg_id;
  h.ts_ms = ts_ms;
  const auto bytes = encode(h, response);
  try {
    for (const auto& f : route) router.send(zmq::buffer(f), zmq::send_flags::sndmore);
    router.send(zmq::buffer(bytes), zmq::send_flags::dontwait);
  } catch (const zmq::error_t& e) {
    log::warn("admin reply failed", {{"error", e.what()}});
  }
}

AdminResponse admin_error(const Error& e) {
  return AdminResponse{false, e.code, e.message, nlohmann::json::object()};
}

}  // namespace edgenas::proto
