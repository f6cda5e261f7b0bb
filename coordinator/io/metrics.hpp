#pragma once
// The coordinator's /metrics page (Prometheus text), rendered in the io thread on its tick.
// What each family means: docs/OPERATIONS.md, "Metrics".
#include <string>

namespace edgenas::predictor {
class PredictorService;
}

namespace edgenas::coordinator {

class ConsoleAuth;
class CoordinatorCore;
class KeyRegistry;
class Server;

struct MetricsSources {
  const CoordinatorCore& core;
  const Server& server;
  const KeyRegistry* keys = nullptr;                       // null: CURVE off
  const predictor::PredictorService* predictor = nullptr;  // null: cold-start only
  int64_t traces_stored = 0;             // the store's count, refreshed by the caller now and then
  const ConsoleAuth* console = nullptr;  // null: the web console is off
};

std::string render_metrics(const MetricsSources& s);

}  // namespace edgenas::coordinator
