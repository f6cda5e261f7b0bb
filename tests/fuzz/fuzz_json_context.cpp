// JSON files handed to the CLIs (edgenasctl hparams ask, edgenas-agent task/trace submit).
#include "common/protocol/codec.hpp"

using namespace edgenas;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto j = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  (void)proto::from_json<Context>(j);
  (void)proto::from_json<Trace>(j);
  (void)proto::from_json<JobTask>(j);
  return 0;
}
