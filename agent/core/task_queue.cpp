#include "agent/core/task_queue.hpp"

#include "common/protocol/codec.hpp"
#include "common/util/errors.hpp"

namespace edgenas::agent {

Status TaskQueue::submit(const JobTask& task) {
  if (!valid_id(task.task_id)) {
    return Error{"invalid",
                 "task id '" + task.task_id + "' must be 1..128 chars of [A-Za-z0-9._:@-]"};
  }
  if (tasks_.count(task.task_id))
    return Error{"invalid", "task '" + task.task_id + "' is already queued"};
  if (tasks_.size() >= limits::kMaxQueuedTasks) {
    return Error{"invalid",
                 "the queue is full (" + std::to_string(limits::kMaxQueuedTasks) + " tasks)"};
  }
  if (task.rows.empty()) return Error{"invalid", "task '" + task.task_id + "' has no device rows"};
  std::set<std::string> seen;
  for (const auto& r : task.rows) {
    if (!devices_.count(r.device)) {
      return Error{"invalid",
                   "task '" + task.task_id + "': this box has no device '" + r.device + "'"};
    }
    if (!seen.insert(r.device).second) {
      return Error{"invalid",
                   "task '" + task.task_id + "': device '" + r.device + "' has two rows"};
    }
  }
  tasks_[task.task_id] = task;
  ++revision_;
  return ok_status();
}

Status TaskQueue::done(const std::string& task_id) {
  if (tasks_.erase(task_id) == 0) return Error{errc::kNotFound, "no queued task '" + task_id + "'"};
  ++revision_;
  return ok_status();
}

JobMatrix TaskQueue::matrix() const {
  JobMatrix m;
  for (const auto& [id, t] : tasks_) m.tasks.push_back(t);
  return m;
}

}  // namespace edgenas::agent
