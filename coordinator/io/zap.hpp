#pragma once
// The ZAP handler (ZeroMQ Authentication Protocol, RFC 27): libzmq asks it, over
// inproc://zeromq.zap.01, whether a client's CURVE key may connect to a socket of a given
// domain. Bound before any server socket (a CURVE server without a handler accepts every key),
// and answered from the io loop, which polls it.
#include <zmq.hpp>

#include "coordinator/core/keys.hpp"

namespace edgenas::coordinator {

class ZapServer {
 public:
  ZapServer(zmq::context_t& ctx, KeyRegistry& keys);
  zmq::socket_t& socket() { return sock_; }
  // Answers every request waiting on the socket.
  void handle();

 private:
  zmq::socket_t sock_;
  KeyRegistry& keys_;
};

}  // namespace edgenas::coordinator
