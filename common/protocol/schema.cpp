#include "common/protocol/schema.hpp"

namespace edgenas::proto {
namespace {
constexpr std::pair<MsgType, std::string_view> kTypeNames[] = {
    {MsgType::register_agent, "register"},
    {MsgType::reregister, "reregister"},
    {MsgType::welcome, "welcome"},
    {MsgType::heartbeat, "heartbeat"},
    {MsgType::heartbeat_ack, "heartbeat_ack"},
    {MsgType::queue_report, "queue_report"},
    {MsgType::hparam_request, "hparam_request"},
    {MsgType::hparam_reply, "hparam_reply"},
    {MsgType::trace, "trace"},
    {MsgType::ack, "ack"},
    {MsgType::command, "command"},
    {MsgType::error, "error"},
    {MsgType::admin_request, "admin_request"},
    {MsgType::admin_response, "admin_response"},
};
constexpr std::pair<CommandAction, std::string_view> kActionNames[] = {
    {CommandAction::start_search, "start_search"},
    {CommandAction::cancel, "cancel"},
    {CommandAction::reload_config, "reload_config"},
};
}  // namespace

std::string_view to_string(MsgType t) {
  for (auto [type, name] : kTypeNames) {
    if (type == t) return name;
  }
  return "?";
}

std::optional<MsgType> msg_type_from_string(std::string_view s) {
  for (auto [type, name] : kTypeNames) {
    if (name == s) return type;
  }
  return std::nullopt;
}

std::string_view to_string(CommandAction a) {
  for (auto [action, name] : kActionNames) {
    if (action == a) return name;
  }
  return "?";
}

Status Register::validate() const {
  if (devices.empty() || devices.front().name != "cpu")
    return Error{"invalid", "devices: the first device must be 'cpu'"};
  for (std::size_t i = 1; i < devices.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (devices[i].name == devices[j].name)
        return Error{"invalid", "devices: device '" + devices[i].name + "' is listed twice"};
    }
  }
  return ok_status();
}

std::optional<CommandAction> command_action_from_string(std::string_view s) {
  for (auto [action, name] : kActionNames) {
    if (name == s) return action;
  }
  return std::nullopt;
}

}  // namespace edgenas::proto
