#include "common/util/loopback.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace edgenas::net {
namespace {

sockaddr_in loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

}  // namespace

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a = loopback(0);
  socklen_t len = sizeof a;
  const bool bound = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                     ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  const int err = errno;
  if (fd >= 0) ::close(fd);
  if (!bound)
    throw std::runtime_error(std::string("no free port on 127.0.0.1: ") + std::strerror(err));
  return ntohs(a.sin_port);
}

HttpAnswer http_call(int port, const std::string& method, const std::string& path,
                     const std::vector<std::pair<std::string, std::string>>& headers,
                     const std::string& body, int timeout_s) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{timeout_s, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in a = loopback(port);
  std::string resp;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    std::string req = method + " " + path + " HTTP/1.0\r\nHost: localhost\r\n";
    for (const auto& [name, value] : headers) req += name + ": " + value + "\r\n";
    if (!body.empty()) req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    req += "\r\n" + body;
    if (::write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size())) {
      char buf[8192];
      for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;)
        resp.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  // "HTTP/1.x NNN reason\r\n...\r\n\r\nbody"
  const auto end = resp.find("\r\n\r\n");
  if (resp.rfind("HTTP/1.", 0) != 0 || resp.size() < 12 || end == std::string::npos) return {};
  try {
    return {std::stoi(resp.substr(9, 3)), resp.substr(0, end + 2), resp.substr(end + 4)};
  } catch (const std::exception&) {
    return {};
  }
}

std::string HttpAnswer::header(const std::string& name) const {
  const std::string key = "\r\n" + name + ": ";
  const auto at = headers.find(key);
  if (at == std::string::npos) return "";
  const auto from = at + key.size();
  return headers.substr(from, headers.find("\r\n", from) - from);
}

std::pair<int, std::string> http_get(int port, const std::string& path, int timeout_s) {
  auto a = http_call(port, "GET", path, {}, "", timeout_s);
  return {a.status, a.body};
}

}  // namespace edgenas::net
