// Predictor model files (the coordinator loads them at start and on promote).
#include "coordinator/predictor/predictor_model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto m = edgenas::predictor::parse_predictor(
      std::string(reinterpret_cast<const char*>(data), size), "fuzz.edgenasp");
  if (m) (void)m->predict(edgenas::Context{});
  return 0;
}
