#include "common/util/ports.hpp"

#include <dirent.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/util/log.hpp"

namespace edgenas::net {
namespace {

// The inode of a socket listening on `port` in one of /proc/net/tcp{,6}; "" when none.
std::string listening_inode(int port, const std::string& proc_root) {
  for (const char* table : {"/net/tcp", "/net/tcp6"}) {
    std::ifstream in(proc_root + table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      std::istringstream f(line);
      std::string sl, local, remote, state, queues, timer, retr, uid, timeout, inode;
      if (!(f >> sl >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >>
            inode))
        continue;
      const auto colon = local.rfind(':');
      if (colon == std::string::npos || state != "0A") continue;  // 0A: LISTEN
      if (std::stoi(local.substr(colon + 1), nullptr, 16) == port) return inode;
    }
  }
  return "";
}

std::string process_name(const std::string& proc_root, const std::string& pid) {
  std::ifstream in(proc_root + "/" + pid + "/comm");
  std::string name;
  std::getline(in, name);
  return name;
}

}  // namespace

int endpoint_port(const std::string& endpoint) {
  const auto colon = endpoint.rfind(':');
  if (colon == std::string::npos || colon + 1 == endpoint.size()) return -1;
  if (endpoint.compare(0, 6, "ipc://") == 0 || endpoint.compare(0, 9, "inproc://") == 0) return -1;
  const std::string digits = endpoint.substr(colon + 1);
  if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 5) return -1;
  const int port = std::stoi(digits);
  return port > 0 && port <= 65535 ? port : -1;
}

std::string port_holder(int port, const std::string& proc_root) {
  const std::string inode = listening_inode(port, proc_root);
  if (inode.empty() || inode == "0") return "";
  const std::string target = "socket:[" + inode + "]";
  DIR* procs = ::opendir(proc_root.c_str());
  if (!procs) return "";
  std::string found;
  while (dirent* p = ::readdir(procs)) {
    const std::string pid = p->d_name;
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string fd_dir = proc_root + "/" + pid + "/fd";
    DIR* fds = ::opendir(fd_dir.c_str());
    if (!fds) continue;
    while (dirent* fd = ::readdir(fds)) {
      char link[64];
      const ssize_t n = ::readlink((fd_dir + "/" + fd->d_name).c_str(), link, sizeof link - 1);
      if (n > 0 && target.compare(0, std::string::npos, link, static_cast<std::size_t>(n)) == 0) {
        found = "pid " + pid + " (" + process_name(proc_root, pid) + ")";
        break;
      }
    }
    ::closedir(fds);
    if (!found.empty()) break;
  }
  ::closedir(procs);
  return found;
}

Status bind_with_retry(const std::function<Status()>& bind, const std::string& endpoint,
                       int64_t retry_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(retry_ms);
  const std::string in_use = std::strerror(EADDRINUSE);
  const int port = endpoint_port(endpoint);
  bool said = false;
  while (true) {
    auto r = bind();
    if (r || r.error().message.find(in_use) == std::string::npos) return r;
    const std::string holder = port > 0 ? port_holder(port) : "";
    const std::string by = holder.empty() ? "" : " (held by " + holder + ")";
    if (std::chrono::steady_clock::now() >= deadline) {
      return Error{r.error().code, r.error().message + by + "; gave up after " +
                                       std::to_string(retry_ms) + " ms of retries"};
    }
    if (!said) {
      log::warn("port in use; retrying", {{"endpoint", endpoint},
                                          {"holder", holder.empty() ? "unknown" : holder},
                                          {"for_ms", retry_ms}});
      said = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace edgenas::net
