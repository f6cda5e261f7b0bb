#include "coordinator/io/trace_reader.hpp"

namespace edgenas::coordinator {

TraceReader::TraceReader(zmq::context_t& ctx, std::unique_ptr<TraceStore> store)
    : store_(std::move(store)),
      done_rx_(ctx, zmq::socket_type::pair),
      done_tx_(ctx, zmq::socket_type::pair) {
  const std::string ep =
      "inproc://edgenas-reads-" + std::to_string(reinterpret_cast<uintptr_t>(this));
  done_rx_.bind(ep);
  done_tx_.connect(ep);
  thread_ = std::thread([this] { loop(); });
}

TraceReader::~TraceReader() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void TraceReader::read(TraceQuery q, Done done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    todo_.push_back({std::move(q), std::move(done)});
  }
  cv_.notify_one();
}

void TraceReader::drain() {
  zmq::message_t m;
  while (done_rx_.recv(m, zmq::recv_flags::dontwait)) {
  }
  std::deque<Finished> finished;
  {
    std::lock_guard<std::mutex> lock(mu_);
    finished.swap(finished_);
  }
  for (auto& f : finished) f.done(std::move(f.page));
}

void TraceReader::loop() {
  while (true) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return !todo_.empty() || stopping_; });
      if (stopping_) return;
      job = std::move(todo_.front());
      todo_.pop_front();
    }
    auto rows = store_->list_traces(job.query.filter);
    Expected<nlohmann::json> page =
        rows ? Expected<nlohmann::json>(trace_page(*rows, job.query)) : rows.error();
    {
      std::lock_guard<std::mutex> lock(mu_);
      finished_.push_back({std::move(job.done), std::move(page)});
    }
    done_tx_.send(zmq::str_buffer("x"), zmq::send_flags::dontwait);
  }
}

}  // namespace edgenas::coordinator
