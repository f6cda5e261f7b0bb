#pragma once
// The box's Job matrix: tasks queued by local workloads (through the local socket) and tasks
// listed in the config file. Every change bumps the revision; the agent reports the whole
// matrix to the coordinator when the revision changed.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/model/model.hpp"

namespace edgenas::agent {

// Where locally submitted tasks are kept so a restart keeps the queue (the daemon's: SQLite,
// agent/store).
class TaskStore {
 public:
  virtual ~TaskStore() = default;
  virtual Status save_task(const JobTask& task) = 0;
  virtual Status delete_task(const std::string& task_id) = 0;
};

class TaskQueue {
 public:
  explicit TaskQueue(std::set<std::string> devices) : devices_(std::move(devices)) {}

  // Validates against this box's devices; a task id already queued is an error.
  Status submit(const JobTask& task);
  Status done(const std::string& task_id);
  JobMatrix matrix() const;
  uint64_t revision() const { return revision_; }
  std::size_t size() const { return tasks_.size(); }
  bool contains(const std::string& task_id) const { return tasks_.count(task_id) > 0; }

 private:
  std::set<std::string> devices_;
  std::map<std::string, JobTask> tasks_;
  uint64_t revision_ = 1;
};

}  // namespace edgenas::agent
