// The coordinator's first step on every agent message: envelope, then the body its type names.
#include "common/protocol/codec.hpp"

using namespace edgenas;
using namespace edgenas::proto;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto decoded = decode_envelope(std::string_view(reinterpret_cast<const char*>(data), size));
  auto* env = std::get_if<Envelope>(&decoded);
  if (!env) return 0;
  switch (env->header.type) {
    case MsgType::register_agent:
      (void)decode_body<Register>(*env);
      break;
    case MsgType::reregister:
      (void)decode_body<Reregister>(*env);
      break;
    case MsgType::welcome:
      (void)decode_body<Welcome>(*env);
      break;
    case MsgType::heartbeat:
      (void)decode_body<Heartbeat>(*env);
      break;
    case MsgType::heartbeat_ack:
      (void)decode_body<HeartbeatAck>(*env);
      break;
    case MsgType::queue_report:
      (void)decode_body<QueueReport>(*env);
      break;
    case MsgType::hparam_request:
      (void)decode_body<HparamRequest>(*env);
      break;
    case MsgType::hparam_reply:
      (void)decode_body<HparamReply>(*env);
      break;
    case MsgType::trace:
      (void)decode_body<Trace>(*env);
      break;
    case MsgType::ack:
      (void)decode_body<Ack>(*env);
      break;
    case MsgType::command:
      (void)decode_body<Command>(*env);
      break;
    case MsgType::error:
      (void)decode_body<ErrorMsg>(*env);
      break;
    case MsgType::admin_request:
      (void)decode_body<AdminRequest>(*env);
      break;
    case MsgType::admin_response:
      (void)decode_body<AdminResponse>(*env);
      break;
  }
  return 0;
}
