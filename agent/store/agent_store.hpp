#pragma once
// The agent's durable state in one SQLite file: the trace outbox (unacked traces, bounded),
// the locally submitted tasks (so a restart keeps the Job queue) and the NAS runs.
#include <memory>
#include <string>

#include "agent/core/outbox.hpp"
#include "agent/core/search_runner.hpp"
#include "agent/core/task_queue.hpp"
#include "common/util/sqlite.hpp"

namespace edgenas::agent {

class AgentStore final : public Outbox, public RunStore, public TaskStore {
 public:
  static Expected<std::unique_ptr<AgentStore>> open(const std::string& path, std::size_t max_traces,
                                                    OutboxFullPolicy policy);

  Status add(const Trace& trace) override;
  Expected<std::vector<Trace>> pending(std::size_t max) override;
  Status ack(const std::vector<std::string>& trace_ids) override;
  int64_t depth() override { return depth_; }
  int64_t dropped() override { return dropped_; }
  int64_t quarantined() const override { return quarantined_; }  // rows that stopped decoding

  // Local tasks (submitted through the local socket), in submission order.
  Status save_task(const JobTask& task) override;
  Status delete_task(const std::string& task_id) override;
  Expected<std::vector<JobTask>> load_tasks();

  Status save_run(const SearchRun& run) override;
  Status finish_run(const std::string& run_id, const std::string& outcome) override;
  Expected<std::vector<SearchRun>> unfinished_runs() override;
  int64_t runs_finished() override;

 private:
  AgentStore(std::unique_ptr<sqlite::Db> db, std::size_t max, OutboxFullPolicy p)
      : db_(std::move(db)), max_(max), policy_(p) {}
  Status load_counters();
  Status bump_dropped(int64_t n);
  Status quarantine(int64_t seq, const std::string& trace_id, const std::string& body,
                    const std::string& why);

  std::unique_ptr<sqlite::Db> db_;
  std::size_t max_;
  OutboxFullPolicy policy_;
  int64_t depth_ = 0;
  int64_t dropped_ = 0;
  int64_t quarantined_ = 0;
};

}  // namespace edgenas::agent
