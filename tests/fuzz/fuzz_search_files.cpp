// What the agent reads back about its NAS runs: the run records in its store and the
// results.json an edgenas-search child wrote (a child may crash mid-write or be replaced).
#include "agent/core/search_runner.hpp"

using namespace edgenas;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto j = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  auto run = agent::search_run_from_json(j);
  agent::SearchRun r = run ? *run : agent::SearchRun{};
  r.run_id = "box-s1";
  const Trace t =
      agent::make_search_trace(r, &j, std::nullopt, "", 3, 1'700'000'000'000, "ARM Cortex-A55");
  (void)t.validate();
  // Whatever the child wrote, the progress the agent forwards must be one the coordinator takes.
  if (t.outcome.progress && !t.outcome.progress->validate().ok()) __builtin_trap();
  return 0;
}
