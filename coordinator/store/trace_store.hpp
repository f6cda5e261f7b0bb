#pragma once
// The coordinator's durable state: agents, traces and hyperparameter replies in one SQLite
// database (WAL, synchronous=FULL). Writes come in batches, one transaction each (group
// commit); a trace is acked only after the batch holding it committed. Trace ids are primary
// keys, so a resent trace is stored once.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/model/model.hpp"
#include "common/protocol/schema.hpp"
#include "common/util/expected.hpp"
#include "common/util/sqlite.hpp"

namespace edgenas::coordinator {

struct StoredAgent {
  std::string agent_id;
  proto::Register registration;
  proto::AgentState state;
  int64_t first_seen_ms = 0;  // wall clock
  int64_t last_seen_ms = 0;   // wall clock
  int64_t registrations = 0;
};

struct TraceRecord {
  std::string agent_id;
  int64_t received_ms = 0;  // wall clock at the coordinator
  Trace trace;
};

struct ReplyRecord {
  std::string agent_id;
  int64_t ts_ms = 0;
  Context context;
  proto::HparamReply reply;
};

struct TraceFilter {
  std::string agent_id;  // "" = all agents
  int64_t since_ms = 0;  // received at or after (wall clock ms)
  // Keyset paging: with a non-empty after_trace_id, rows at exactly since_ms are returned only
  // when their trace_id sorts after it (the cursor of the previous page).
  std::string after_trace_id;
  int64_t limit = 100;
};

// One trained predictor (docs/ARCHITECTURE.md, "The predictor").
struct PredictorVersion {
  int version = 0;
  int64_t created_ms = 0;
  std::string status;  // training, candidate, promoted, retired, rejected, failed
  std::string path;    // the model file
  int feature_version = 0;
  int64_t training_traces = 0;
  nlohmann::json metrics = nlohmann::json::object();
  std::string note;  // why it has its status
};

// One version of the fleet's latency models (docs/ARCHITECTURE.md, "Learned latency").
struct LatencyVersion {
  int version = 0;
  int64_t created_ms = 0;
  std::string status;  // training, ready, failed
  std::string path;    // the version's file (JSON)
  int kinds = 0;       // device kinds with a model
  int serving = 0;     // of those, the ones whose model passed its gate
  std::string note;    // why it has its status
};

struct StoredKey {
  std::string public_key, state, agent_id, address;
  int64_t first_seen_ms = 0, last_seen_ms = 0;
};

// A login token of the web console; the token itself is never stored.
struct ConsoleToken {
  std::string id, sha256, admin;
  int64_t created_ms = 0, expires_ms = 0;
  bool revoked = false;
};

// A canary rollout of a predictor version (docs/ARCHITECTURE.md, "Predictor rollout").
struct Rollout {
  int64_t seq = 0;  // 0 until stored
  int version = 0, baseline = 0;
  double share = 0;
  int64_t started_ms = 0;
  std::string state = "active";  // active, promoted, rolled_back, cancelled
  std::string note;
};

struct StoreCounts {
  int64_t agents = 0;
  int64_t traces = 0;
  int64_t replies = 0;
};

class TraceStore {
 public:
  static constexpr int kSchemaVersion = 6;
  static Expected<std::unique_ptr<TraceStore>> open(const std::string& path);

  // One transaction: all or nothing. Traces already stored are skipped (idempotent).
  Status write_batch(const std::vector<TraceRecord>& traces,
                     const std::vector<ReplyRecord>& replies,
                     const std::vector<StoredAgent>& agents);

  Expected<std::vector<StoredAgent>> load_agents();
  Expected<std::vector<TraceRecord>> list_traces(const TraceFilter& filter);
  Expected<StoreCounts> counts();   // traces and replies by their largest rowid, agents by COUNT(*)
  Expected<int64_t> trace_count();  // the traces, in O(log n): for the io thread
  int64_t schema_version() { return db_->user_version(); }

  // The most recent traces (newest first), for training the predictor.
  Expected<std::vector<TraceRecord>> recent_traces(int64_t limit);
  // The most recent traces that carry measured candidate latencies, for the latency models.
  Expected<std::vector<TraceRecord>> recent_latency_traces(int64_t limit);
  Expected<int64_t> latency_trace_count();  // a scan of their partial index

  // Versions of the fleet's latency models; save inserts or updates by version.
  Expected<int> next_latency_version();
  Status save_latency_version(const LatencyVersion& v);
  Expected<std::vector<LatencyVersion>> latency_versions();  // newest first
  Expected<std::optional<LatencyVersion>> latency_version(int version);

  // Canary rollouts, oldest first; save_rollout inserts (seq 0, then set) or updates.
  Status save_rollout(Rollout& r);
  Expected<std::vector<Rollout>> rollouts();

  // Agent CURVE keys (enrolment).
  Status save_agent_key(const StoredKey& k) { return save_agent_keys({k}); }
  Status save_agent_keys(const std::vector<StoredKey>& keys);  // one transaction
  Expected<std::vector<StoredKey>> agent_keys();

  // Web console login tokens, oldest first; save inserts, or updates `revoked`.
  Status save_console_token(const ConsoleToken& t);
  Expected<std::vector<ConsoleToken>> console_tokens();

  // Predictor versions and promotions.
  Expected<int> next_predictor_version();
  Status save_predictor_version(const PredictorVersion& v);
  Expected<std::vector<PredictorVersion>> predictor_versions();
  Expected<std::optional<PredictorVersion>> predictor_version(int version);
  // One transaction: the promoted version (if any) becomes retired, this one promoted, and the
  // promotion is appended to the history.
  Status record_promotion(int version, int64_t ts_ms, const std::string& reason);
  Expected<std::vector<std::pair<int, std::string>>>
  promotions();  // (version, reason), oldest first

 private:
  explicit TraceStore(std::unique_ptr<sqlite::Db> db) : db_(std::move(db)) {}
  // Rows of (agent_id, received_ms, body) from a query with one bound limit; undecodable rows
  // are skipped.
  Expected<std::vector<TraceRecord>> select_traces(std::string_view sql, int64_t limit);
  Status prepare_statements();

  std::unique_ptr<sqlite::Db> db_;
  sqlite::Stmt insert_trace_, insert_reply_, upsert_agent_;
};

}  // namespace edgenas::coordinator
