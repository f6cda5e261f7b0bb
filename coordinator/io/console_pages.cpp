#include "coordinator/io/console_pages.hpp"

#include "coordinator/console/assets.hpp"

namespace edgenas::coordinator {

namespace {

http::Response page(const http::Request& req) {
  http::Response r;
  if (req.method != "GET" && req.method != "HEAD") {
    r.status = 405;
    r.content_type = "text/plain; charset=utf-8";
    r.headers.emplace_back("Allow", "GET, HEAD");
    r.body = "only GET\n";
    return r;
  }
  const std::string path = req.path == "/" ? "/index.html" : req.path;
  for (const auto& a : console::assets()) {
    if (a.path != path) continue;
    r.content_type = std::string(a.content_type);
    r.body = std::string(a.body);
    r.headers = {{"Content-Security-Policy",
                  "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"},
                 {"X-Content-Type-Options", "nosniff"},
                 {"Referrer-Policy", "no-referrer"},
                 {"Cache-Control", "no-cache"}};
    return r;
  }
  r.status = 404;
  r.content_type = "text/plain; charset=utf-8";
  r.body = "not found; the console is at /, its API under /api/, and /metrics, /healthz\n";
  return r;
}

}  // namespace

http::Route console_pages_route() {
  return {"/", [](http::Request req, http::Reply reply) { reply(page(req)); }};
}

}  // namespace edgenas::coordinator
