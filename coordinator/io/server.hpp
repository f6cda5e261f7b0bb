#pragma once
// The coordinator's sockets: a ROUTER for agents and a separate ROUTER for admin clients,
// served from one thread. Each round drains up to kMaxMessagesPerRound messages, lets the
// core handle them, commits the round (group commit) and sends the replies and Acks.
#include <atomic>
#include <string>

#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "coordinator/core/admin.hpp"
#include "coordinator/core/coordinator_core.hpp"

namespace edgenas::coordinator {

struct ServerConfig {
  std::string agent_endpoint = "tcp://*:7700";
  std::string admin_endpoint = "tcp://127.0.0.1:7701";
};

class Server {
 public:
  Server(zmq::context_t& ctx, CoordinatorCore& core, AdminService& admin, ServerConfig cfg);
  Status bind();
  // Serves until stop is set; then commits what is pending and returns.
  void run(const std::atomic<bool>& stop);

 private:
  void drain_agents(std::vector<Outgoing>& out);
  void drain_admin(std::vector<Outgoing>& agent_out);
  void send_all(std::vector<Outgoing>& out);

  CoordinatorCore& core_;
  AdminService& admin_;
  ServerConfig cfg_;
  zmq::socket_t agents_;
  zmq::socket_t admin_sock_;
  uint64_t admin_msg_id_ = 1;
};

// Sets the options every socket that reads untrusted bytes gets (size cap, no linger).
void harden_socket(zmq::socket_t& s);

}  // namespace edgenas::coordinator
