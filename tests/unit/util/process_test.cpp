// The spawn path every daemon uses for its children, and binding a port that is still taken.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <sstream>
#include <thread>

#include "common/util/ports.hpp"
#include "common/util/process.hpp"
#include "common/util/sqlite.hpp"

namespace edgenas {
namespace {

// Runs argv as a child and returns what it printed on stdout once it exited.
std::vector<std::string> run_child(ProcessLauncher& launcher, std::vector<std::string> argv,
                                   bool idle_class = false) {
  ChildSpec spec;
  spec.argv = std::move(argv);
  spec.idle_class = idle_class;
  spec.log_path = testing::TempDir() + "/child.log";
  spec.name = "fd-test";
  auto handle = launcher.spawn(spec);
  EXPECT_TRUE(handle.ok()) << (handle ? "" : handle.error().message);
  if (!handle) return {};
  std::vector<std::string> lines;
  for (int i = 0; i < 500; ++i) {
    for (auto& l : launcher.take_lines(*handle)) lines.push_back(l);
    if (launcher.poll(*handle)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (auto& l : launcher.take_lines(*handle)) lines.push_back(l);
  return lines;
}

// A listening TCP socket on 127.0.0.1, opened without close-on-exec (as Asio does).
int listen_on_loopback(int& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(fd, 4) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    return -1;
  port = ntohs(a.sin_port);
  return fd;
}

TEST(Process, ABackgroundChildRunsInTheIdleSchedulingClass) {
  // /proc/PID/sched names the policy: 0 SCHED_OTHER, 5 SCHED_IDLE.
  const std::vector<std::string> argv = {
      "/bin/sh", "-c", "sleep 0.2; grep '^policy' /proc/$$/sched | tr -dc 0-9; echo"};
  ProcessLauncher launcher;
  EXPECT_EQ(run_child(launcher, argv, true), std::vector<std::string>{"5"});
  EXPECT_EQ(run_child(launcher, argv, false), std::vector<std::string>{"0"});
}

TEST(Process, ABackgroundChildHasASessionAndSchedulingGroupOfItsOwn) {
  // Field 6 of /proc/PID/stat is the session; /proc/PID/autogroup ends in the group's niceness.
  // The file is empty for a process in the kernel's default group (init's session, where a CI
  // runner started without a session of its own leaves its children) and absent without
  // autogroups: both print "none".
  const std::vector<std::string> argv = {
      "/bin/sh", "-c",
      "sleep 0.2; [ \"$(cut -d' ' -f6 /proc/$$/stat)\" = $$ ] && echo own || echo shared; "
      "g=$(sed 's/.* nice //' /proc/$$/autogroup 2>/dev/null); echo \"${g:-none}\""};
  ProcessLauncher launcher;
  const auto background = run_child(launcher, argv, true);
  const auto foreground = run_child(launcher, argv, false);
  ASSERT_EQ(background.size(), 2u);
  ASSERT_EQ(foreground.size(), 2u);
  EXPECT_EQ(background[0], "own");
  EXPECT_EQ(foreground[0], "shared");
  if (background[1] != "none") {  // a kernel with autogroups
    EXPECT_EQ(background[1], "19");
    EXPECT_NE(foreground[1], "19");
  }
}

TEST(Process, AChildHoldsOnlyStdioOfTheParentsDescriptors) {
  // What a daemon holds when it starts a child: a listening socket and a plain file opened
  // without close-on-exec, and a SQLite database.
  int port = 0;
  const int sock = listen_on_loopback(port);
  ASSERT_GE(sock, 0);
  const int file = ::open("/dev/null", O_RDONLY);
  ASSERT_GE(file, 0);
  auto db = sqlite::Db::open(testing::TempDir() + "/held.db");
  ASSERT_TRUE(db.ok());
  ProcessLauncher launcher;
  // The shell lists its own descriptors (ls is its child; $$ is the shell).
  const auto lines = run_child(launcher, {"/bin/sh", "-c", "ls /proc/$$/fd"});
  std::ostringstream fds;
  for (const auto& l : lines) fds << l << " ";
  EXPECT_EQ(fds.str(), "0 1 2 ");
  // And it does not hold the socket: this process is the port's only holder.
  EXPECT_EQ(net::port_holder(port).rfind("pid " + std::to_string(::getpid()) + " ", 0), 0u)
      << net::port_holder(port);
  ::close(file);
  ::close(sock);
}

TEST(Ports, EndpointPortsAreReadFromEveryEndpointForm) {
  EXPECT_EQ(net::endpoint_port("tcp://127.0.0.1:7700"), 7700);
  EXPECT_EQ(net::endpoint_port("tcp://*:7700"), 7700);
  EXPECT_EQ(net::endpoint_port("127.0.0.1:9464"), 9464);
  EXPECT_EQ(net::endpoint_port("[::1]:80"), 80);
  EXPECT_EQ(net::endpoint_port("ipc:///tmp/a:1"), -1);
  EXPECT_EQ(net::endpoint_port("tcp://127.0.0.1:*"), -1);
  EXPECT_EQ(net::endpoint_port("tcp://127.0.0.1:99999"), -1);
}

TEST(Ports, ATakenPortNamesItsHolderAndIsRetriedUntilFreed) {
  int port = 0;
  int sock = listen_on_loopback(port);
  ASSERT_GE(sock, 0);
  const std::string ep = "127.0.0.1:" + std::to_string(port);
  int attempts = 0;
  auto bind_once = [&]() -> Status {
    ++attempts;
    // Another bind of the same port: refused while `sock` listens.
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    const int err = errno;
    ::close(fd);
    if (bound) return ok_status();
    return Error{"bind", "cannot listen on " + ep + ": " + std::strerror(err)};
  };
  // No retry: fails at once and says who holds the port.
  auto refused = net::bind_with_retry(bind_once, ep, 0);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("held by pid " + std::to_string(::getpid())),
            std::string::npos)
      << refused.error().message;
  // With a retry window, the bind succeeds once the holder lets go.
  attempts = 0;
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    ::close(sock);
  });
  auto bound = net::bind_with_retry(bind_once, ep, 5000);
  release.join();
  EXPECT_TRUE(bound.ok()) << (bound ? "" : bound.error().message);
  EXPECT_GE(attempts, 2);
  // Other errors are not retried.
  attempts = 0;
  auto other = net::bind_with_retry(
      [&]() -> Status {
        ++attempts;
        return Error{"bind", "cannot listen: Permission denied"};
      },
      ep, 5000);
  EXPECT_FALSE(other.ok());
  EXPECT_EQ(attempts, 1);
}

}  // namespace
}  // namespace edgenas
