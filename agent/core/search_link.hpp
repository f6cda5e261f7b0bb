#pragma once
// What a NAS run needs from the agent's link to the coordinator: the box's Job and Source now,
// hyperparameters asked for and taken, and the finished run's Trace handed over for delivery.
// AgentCore implements it; the SearchRunner's unit tests use a fake.
#include <optional>
#include <string>

#include "common/model/model.hpp"
#include "common/protocol/schema.hpp"

namespace edgenas::agent {

class SearchLink {
 public:
  virtual ~SearchLink() = default;
  virtual Context context() const = 0;
  // Queues a request (sent now or once registered, resent until answered); returns its id.
  // latency_version: the fleet latency models this box holds (0: none); newer ones come back
  // with the reply.
  virtual std::string request_hparams(const Context& context, int latency_version) = 0;
  virtual std::optional<proto::HparamReply> take_hparam_reply(const std::string& request_id) = 0;
  // Forgets a request nobody waits for any more (and its reply, if it comes later).
  virtual void cancel_hparam_request(const std::string& request_id) = 0;
  virtual Status submit_trace(const Trace& trace) = 0;
};

}  // namespace edgenas::agent
