#include "common/util/http_status.hpp"

#include <fcntl.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>
#include <thread>

#include "common/util/errors.hpp"
#include "common/util/log.hpp"
#include "common/util/ports.hpp"

namespace edgenas::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

void StatusBoard::publish(std::string page) {
  std::lock_guard lock(mu_);
  page_ = std::move(page);
  at_ = std::chrono::steady_clock::now();
  published_ = true;
}

std::pair<std::string, std::chrono::milliseconds> StatusBoard::snapshot() const {
  std::lock_guard lock(mu_);
  if (!published_) return {page_, std::chrono::milliseconds::max()};
  return {page_, std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - at_)};
}

namespace {

// Asio opens and accepts sockets without close-on-exec: a child a daemon starts would inherit
// them (and hold the port after the daemon died). The spawn path closes them too; this keeps
// any other exec safe.
void close_on_exec(int fd) {
  ::fcntl(fd, F_SETFD, ::fcntl(fd, F_GETFD) | FD_CLOEXEC);
}

// One connection: read a request, answer, repeat while keep-alive; 5 s per request.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket s, const StatusBoard& board, std::chrono::milliseconds stale,
          const std::vector<Route>& routes)
      : stream_(std::move(s)), board_(board), stale_(stale), routes_(routes) {}
  void start() { read(); }

 private:
  void read() {
    parser_.emplace();
    parser_->header_limit(8 * 1024);
    parser_->body_limit(64 * 1024);
    stream_.expires_after(std::chrono::seconds(5));
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec) return;  // closed, timed out or garbage: drop the connection
                        self->req_ = self->parser_->release();
                        self->answer();
                      });
  }

  void answer() {
    const std::string target(req_.target());
    const auto q = target.find('?');
    const std::string path = target.substr(0, q);
    if (path == "/metrics" || path == "/healthz") return write(fixed_page(path));
    for (const auto& r : routes_) {
      if (path.rfind(r.prefix, 0) != 0) continue;
      // The handler may answer from another thread: the write is posted back to this one.
      auto self = shared_from_this();
      auto executor = stream_.get_executor();
      r.handler(request(path, q == std::string::npos ? "" : target.substr(q + 1)),
                [self, executor](Response res) {
                  asio::post(executor, [self, res = std::move(res)]() mutable {
                    self->write(std::move(res));
                  });
                });
      return;
    }
    write(fixed_page(path));
  }

  Request request(std::string path, std::string query) const {
    Request r;
    r.method = std::string(req_.method_string());
    r.path = std::move(path);
    r.query = std::move(query);
    r.cookie = std::string(req_[bhttp::field::cookie]);
    r.csrf_token = std::string(req_["X-CSRF-Token"]);
    r.body = req_.body();
    return r;
  }

  // /metrics, /healthz, or why not.
  Response fixed_page(const std::string& path) const {
    Response res;
    res.content_type = "text/plain; charset=utf-8";
    if (req_.method() != bhttp::verb::get && req_.method() != bhttp::verb::head) {
      res.status = 405;
      res.headers.emplace_back("Allow", "GET, HEAD");
      res.body = "only GET\n";
    } else if (path == "/metrics") {
      res.content_type = "text/plain; version=0.0.4; charset=utf-8";
      res.body = board_.snapshot().first;
    } else if (path == "/healthz") {
      const auto age = board_.snapshot().second;
      if (age <= stale_) {
        res.body = "ok\n";
      } else {
        res.status = 503;
        res.body = age == std::chrono::milliseconds::max()
                       ? "starting: the serving loop has not reported yet\n"
                       : "stale: the serving loop last reported " +
                             std::to_string(age.count() / 1000) + " s ago\n";
      }
    } else {
      res.status = 404;
      res.body = "not found; try /metrics or /healthz\n";
    }
    return res;
  }

  void write(Response r) {
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
    res->version(req_.version());
    res->keep_alive(req_.keep_alive());
    res->result(static_cast<unsigned>(r.status));
    res->set(bhttp::field::server, "edgenas");
    res->set(bhttp::field::content_type, r.content_type);
    for (const auto& [name, value] : r.headers) res->insert(name, value);
    if (req_.method() == bhttp::verb::head) {
      res->content_length(r.body.size());
    } else {
      res->body() = std::move(r.body);
      res->prepare_payload();
    }
    bhttp::async_write(stream_, *res,
                       [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
                         if (ec) return;
                         if (res->keep_alive()) {
                           self->read();
                         } else {
                           beast::error_code ignored;
                           self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                         }
                       });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bhttp::request<bhttp::string_body> req_;
  const StatusBoard& board_;
  std::chrono::milliseconds stale_;
  const std::vector<Route>& routes_;
};

}  // namespace

struct StatusServer::Impl {
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  const StatusBoard* board = nullptr;
  std::chrono::milliseconds stale{};
  std::vector<Route> routes;
  std::thread thread;

  void accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket s) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        close_on_exec(s.native_handle());
        std::make_shared<Session>(std::move(s), *board, stale, routes)->start();
      }
      accept();
    });
  }
};

StatusServer::StatusServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Expected<std::unique_ptr<StatusServer>> StatusServer::start(const std::string& endpoint,
                                                            const StatusBoard& board,
                                                            std::chrono::milliseconds stale_after,
                                                            int64_t bind_retry_ms,
                                                            std::vector<Route> routes) {
  const auto colon = endpoint.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == endpoint.size())
    return Error{errc::kBadConfig, "metrics endpoint '" + endpoint + "' is not HOST:PORT"};
  std::string host = endpoint.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  int port = -1;
  try {
    std::size_t used = 0;
    port = std::stoi(endpoint.substr(colon + 1), &used);
    if (used != endpoint.size() - colon - 1) port = -1;
  } catch (const std::exception&) {
  }
  if (port < 0 || port > 65535)
    return Error{errc::kBadConfig, "metrics endpoint '" + endpoint + "': bad port"};
  auto impl = std::make_unique<Impl>();
  impl->board = &board;
  impl->stale = stale_after;
  impl->routes = std::move(routes);
  beast::error_code ec;
  const auto addr = asio::ip::make_address(host == "*" ? "0.0.0.0" : host, ec);
  if (ec)
    return Error{errc::kBadConfig,
                 "metrics endpoint '" + endpoint + "': bad address: " + ec.message()};
  const tcp::endpoint ep(addr, static_cast<uint16_t>(port));
  auto listen = [&]() -> Status {
    beast::error_code e;
    if (impl->acceptor.is_open()) impl->acceptor.close(e);
    impl->acceptor.open(ep.protocol(), e);
    if (!e) close_on_exec(impl->acceptor.native_handle());
    if (!e) impl->acceptor.set_option(asio::socket_base::reuse_address(true), e);
    if (!e) impl->acceptor.bind(ep, e);
    if (!e) impl->acceptor.listen(asio::socket_base::max_listen_connections, e);
    if (e) return Error{"bind", "cannot serve /metrics on " + endpoint + ": " + e.message()};
    return ok_status();
  };
  if (auto s = net::bind_with_retry(listen, endpoint, bind_retry_ms); !s) return s.error();
  impl->accept();
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] {
    try {
      raw->io.run();
    } catch (const std::exception& e) {
      log::error("metrics server stopped", {{"error", e.what()}});
    }
  });
  return std::unique_ptr<StatusServer>(new StatusServer(std::move(impl)));
}

StatusServer::~StatusServer() {
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

int StatusServer::port() const {
  return impl_->acceptor.local_endpoint().port();
}

}  // namespace edgenas::http
