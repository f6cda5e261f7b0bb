#include "common/protocol/admin_client.hpp"

#include <chrono>
#include <zmq.hpp>

#include "common/protocol/codec.hpp"

namespace edgenas::proto {

struct AdminClient::Impl {
  std::string endpoint;
  int64_t timeout_ms;
  std::optional<CurveClient> curve;
  zmq::context_t ctx{1};
  std::unique_ptr<zmq::socket_t> sock;
  uint64_t next_id = 1;

  void connect() {
    sock = std::make_unique<zmq::socket_t>(ctx, zmq::socket_type::dealer);
    sock->set(zmq::sockopt::linger, 0);
    // Admin answers can be larger than agent messages (pages of traces) but are still capped.
    sock->set(zmq::sockopt::maxmsgsize, int64_t{64} << 20);
    if (curve) apply_client(*sock, *curve);
    sock->connect(endpoint);
  }
};

AdminClient::AdminClient(std::string endpoint, int64_t timeout_ms, std::optional<CurveClient> curve)
    : impl_(std::make_unique<Impl>()) {
  impl_->endpoint = std::move(endpoint);
  impl_->timeout_ms = timeout_ms;
  impl_->curve = std::move(curve);
}

AdminClient::~AdminClient() = default;
AdminClient::AdminClient(AdminClient&&) noexcept = default;
AdminClient& AdminClient::operator=(AdminClient&&) noexcept = default;

Expected<nlohmann::json> AdminClient::call(const std::string& op, const nlohmann::json& args) {
  try {
    if (!impl_->sock) impl_->connect();
    Header h;
    h.msg_id = impl_->next_id++;
    h.ts_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
    AdminRequest req{op, args};
    auto bytes = encode(h, req);
    impl_->sock->send(zmq::buffer(bytes), zmq::send_flags::none);
    zmq::pollitem_t item{impl_->sock->handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(impl_->timeout_ms));
    if (!(item.revents & ZMQ_POLLIN)) {
      impl_->sock.reset();  // drop the late answer, if any, with the socket
      return Error{std::string(kUnreachable),
                   "no answer from " + impl_->endpoint + " within " +
                       std::to_string(impl_->timeout_ms) + " ms" +
                       (impl_->curve ? " (not running, or it refuses this key?)"
                                     : " (not running, or it wants CURVE keys?)")};
    }
    zmq::message_t msg;
    (void)impl_->sock->recv(msg, zmq::recv_flags::none);
    // Responses are trusted more than agent input, but are still decoded with limits.
    auto oh_env = decode_envelope(msg.to_string_view());
    if (auto* bad = std::get_if<EnvelopeError>(&oh_env)) {
      return Error{bad->error.code,
                   "bad answer from " + impl_->endpoint + ": " + bad->error.message};
    }
    auto resp = decode_body<AdminResponse>(std::get<Envelope>(oh_env));
    if (!resp) return Error{resp.error().code, "bad answer: " + resp.error().message};
    if (!resp->ok) return Error{resp->code, resp->message};
    return std::move(resp->result);
  } catch (const zmq::error_t& e) {
    impl_->sock.reset();
    return Error{std::string(kUnreachable),
                 std::string("cannot talk to ") + impl_->endpoint + ": " + e.what()};
  }
}

}  // namespace edgenas::proto
