#include "coordinator/io/zap.hpp"

#include <zmq_addon.hpp>

#include "common/util/log.hpp"

namespace edgenas::coordinator {

ZapServer::ZapServer(zmq::context_t& ctx, KeyRegistry& keys)
    : sock_(ctx, zmq::socket_type::rep), keys_(keys) {
  sock_.set(zmq::sockopt::linger, 0);
  sock_.bind("inproc://zeromq.zap.01");
}

void ZapServer::handle() {
  answer_waiting();
  flush_saves();
}

void ZapServer::answer_waiting() {
  for (int n = 0; n < 256; ++n) {
    std::vector<zmq::message_t> f;
    zmq::recv_result_t r;
    try {
      r = zmq::recv_multipart(sock_, std::back_inserter(f), zmq::recv_flags::dontwait);
    } catch (const zmq::error_t& e) {
      log::warn("ZAP receive failed", {{"error", e.what()}});
      return;
    }
    if (!r) return;
    // version, request id, domain, address, identity, mechanism, credentials...
    std::string status = "400", text = "malformed ZAP request", user;
    if (f.size() >= 6 && f[0].to_string_view() == "1.0") {
      const std::string domain = f[2].to_string(), address = f[3].to_string();
      const std::string mechanism = f[5].to_string();
      if (mechanism != "CURVE" || f.size() < 7 || f[6].size() != 32) {
        text = "only CURVE clients are accepted";
      } else {
        char z85[41];
        zmq_z85_encode(z85, static_cast<const uint8_t*>(f[6].data()), 32);
        const auto d = keys_.authenticate(domain, z85, address);
        if (d.allow) {
          status = "200";
          user = z85;
        }
        text = d.reason;
        if (!d.allow)
          log::debug("ZAP refused a client", {{"domain", domain}, {"reason", d.reason}});
      }
    }
    const std::string request_id = f.size() > 1 ? f[1].to_string() : std::string();
    std::array<zmq::const_buffer, 6> reply{zmq::str_buffer("1.0"), zmq::buffer(request_id),
                                           zmq::buffer(status),    zmq::buffer(text),
                                           zmq::buffer(user),      zmq::const_buffer(nullptr, 0)};
    try {
      zmq::send_multipart(sock_, reply);
    } catch (const zmq::error_t& e) {
      log::warn("ZAP reply failed", {{"error", e.what()}});
    }
  }
}

}  // namespace edgenas::coordinator
