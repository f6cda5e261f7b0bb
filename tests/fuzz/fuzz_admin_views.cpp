// The invariant behind the UTF-8 door: any message the decoder accepts can be stored, listed,
// shown, exported and rendered by every admin view without an exception, and every reply and
// view is UTF-8 (a strict decoder accepts it). Input: one agent message (an envelope) from one
// of a few agents; every 16th input the views are rendered.
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "common/protocol/codec.hpp"
#include "common/util/utf8.hpp"
#include "coordinator/core/admin.hpp"
#include "coordinator_world.hpp"

using namespace edgenas;
using namespace edgenas::coordinator;

namespace {

struct World : fuzz::CoordinatorWorld {
  std::unique_ptr<AdminService> admin;
  World() : CoordinatorWorld("admin") { admin = std::make_unique<AdminService>(*core); }
};

// A reply or view that a strict peer could not decode is a finding.
void must_be_strict_utf8(const std::string& bytes) {
  auto d = proto::decode_envelope(bytes);
  if (!std::holds_alternative<proto::Envelope>(d)) std::abort();
}

void render_views(World& w) {
  std::vector<Outgoing> out;
  for (const auto& [op, args] :
       std::vector<std::pair<std::string, nlohmann::json>>{{"status", {}},
                                                           {"agents.list", {}},
                                                           {"agents.show", {{"agent_id", "box"}}},
                                                           {"traces.list", {}},
                                                           {"traces.export", {}},
                                                           {"predictor.fleet", {}}}) {
    const auto r = w.admin->handle({op, args.is_null() ? nlohmann::json::object() : args}, out);
    must_be_strict_utf8(proto::encode(proto::Header{}, r));
    if (!utf8::valid(utf8::json_text(r.result))) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World w;
  static int n = 0;
  std::vector<Outgoing> out;
  w.core->on_message("route", std::string_view(reinterpret_cast<const char*>(data), size), out);
  (void)w.core->flush(out);
  for (const auto& o : out) must_be_strict_utf8(o.bytes);
  if (++n % 16 == 0) render_views(w);
  return 0;
}
