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
  // Answers every request waiting on the socket, then saves the keys they enrolled.
  void handle();
  // Saves what the registry changed since (new keys, agent ids bound to keys).
  void flush_saves() { (void)keys_.flush_saves(); }

 private:
  void answer_waiting();
  zmq::socket_t sock_;
  KeyRegistry& keys_;
};

}  // namespace edgenas::coordinator
