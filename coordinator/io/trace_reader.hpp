#pragma once
// Trace pages (traces.list, traces.export) read on a thread of their own, with a store
// connection of its own: the web console's box page asks for one every 10 s, and a read that
// waits on the disk (a large commit in flight) must not hold up the io thread and with it every
// agent. The io thread hands over a query, polls done_socket(), and drain() runs each finished
// read's callback there.
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <zmq.hpp>

#include "coordinator/core/admin.hpp"
#include "coordinator/store/trace_store.hpp"

namespace edgenas::coordinator {

class TraceReader final : public TraceReads {
 public:
  TraceReader(zmq::context_t& ctx, std::unique_ptr<TraceStore> store);
  ~TraceReader() override;  // finishes the read in progress, drops the queued ones
  void read(TraceQuery q, Done done) override;
  zmq::socket_t& done_socket() { return done_rx_; }
  // On the io thread, after done_socket() signalled: the finished reads' callbacks.
  void drain();

 private:
  void loop();
  struct Job {
    TraceQuery query;
    Done done;
  };
  struct Finished {
    Done done;
    Expected<nlohmann::json> page;
  };
  std::unique_ptr<TraceStore> store_;
  zmq::socket_t done_rx_, done_tx_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> todo_;
  std::deque<Finished> finished_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace edgenas::coordinator
