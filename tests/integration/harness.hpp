#pragma once
// Starting and stopping real edgenas processes for the integration tests.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/protocol/admin_client.hpp"
#include "common/protocol/curve.hpp"
#include "common/util/loopback.hpp"

extern char** environ;

namespace edgenas::it {

inline std::string temp_dir(const std::string& name) {
  // Short: ipc:// socket paths must stay under ~100 characters.
  auto p = std::filesystem::temp_directory_path() /
           ("en-" + name.substr(0, 12) + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p.string();
}

// A free TCP port on loopback.
using net::free_port;

class Process {
 public:
  Process() = default;
  Process(const std::vector<std::string>& argv, const std::string& log_path) {
    start(argv, log_path);
  }
  ~Process() { stop(SIGKILL); }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  void start(const std::vector<std::string>& argv, const std::string& log_path) {
    log_ = log_path;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    // Nothing of the test runner's (ctest's log, gtest's pipes) reaches the daemon, so what it
    // holds is what it opened itself (restart_test checks that all of that is close-on-exec).
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ASSERT_EQ(posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), environ), 0) << argv[0];
    posix_spawn_file_actions_destroy(&fa);
  }
  // Sends sig and waits; returns the exit status (or -signal).
  int stop(int sig = SIGTERM) {
    if (pid_ > 0) {
      ::kill(pid_, sig);
      ::waitpid(pid_, &status_, 0);
      pid_ = -1;
    }
    return WIFEXITED(status_) ? WEXITSTATUS(status_) : -WTERMSIG(status_);
  }
  pid_t pid() const { return pid_; }
  bool running() {
    if (pid_ <= 0) return false;
    if (::waitpid(pid_, &status_, WNOHANG) == 0) return true;
    pid_ = -1;  // reaped: status_ holds how it ended
    return false;
  }
  std::string log() const {
    std::ifstream in(log_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  pid_t pid_ = -1;
  int status_ = 0;
  std::string log_;
};

// Runs a command to completion (killed after timeout_s); returns {exit code, combined output}.
inline std::pair<int, std::string> run(const std::vector<std::string>& argv, int timeout_s = 30) {
  static int n = 0;
  const std::string out =
      std::filesystem::temp_directory_path() /
      ("edgenas-run-" + std::to_string(::getpid()) + "-" + std::to_string(n++) + ".out");
  std::filesystem::remove(out);
  Process p(argv, out);
  int status = 0;
  // wait without killing
  for (int i = 0; i < timeout_s * 20 && p.running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  status = p.stop(SIGKILL);
  return {status, p.log()};
}

inline bool wait_for(const std::function<bool()>& cond, int timeout_ms) {
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return cond();
}

// The processes whose command line names `text` (e.g. a run directory).
inline std::vector<pid_t> processes_naming(const std::string& text) {
  std::vector<pid_t> out;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string pid = e.path().filename();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "cmdline");
    const std::string cmd((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmd.find(text) != std::string::npos) out.push_back(std::stoi(pid));
  }
  return out;
}

// A coordinator on free loopback ports with its store (and its CURVE keys) in dir.
struct Coordinator {
  std::string dir;
  int port = free_port(), admin_port = free_port();
  std::vector<std::string> extra;  // more flags for edgenas-coordinator
  bool auto_accept = true;         // agent keys need no enrolment step (security tests: false)
  Process proc;

  std::string endpoint() const { return "tcp://127.0.0.1:" + std::to_string(port); }
  std::string admin() const { return "tcp://127.0.0.1:" + std::to_string(admin_port); }
  std::string public_key_file() const { return dir + "/coordinator.pub"; }
  // The admin key the coordinator made for this host, and its public key.
  std::optional<proto::CurveClient> curve() const {
    auto pair = proto::load_keypair(dir + "/admin.key");
    auto server = proto::load_public_key(public_key_file());
    if (!pair || !server) return std::nullopt;
    return proto::CurveClient{*server, *pair};
  }
  proto::AdminClient client(int64_t timeout_ms = 3000) const {
    return proto::AdminClient(admin(), timeout_ms, curve());
  }
  // edgenasctl with this coordinator's endpoint and keys, then `args`.
  std::vector<std::string> ctl(std::vector<std::string> args) const {
    std::vector<std::string> argv{EDGENAS_CTL_BIN,    "--admin",      admin(),          "--key",
                                  dir + "/admin.key", "--server-key", public_key_file()};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }
  // edgenasctl --json ARGS, parsed (discarded JSON when it printed none); a test failure when
  // it does not exit 0.
  nlohmann::json ctl_json(std::vector<std::string> args) const;
  // The state of `key` in `edgenasctl keys list`, or "" when it is not listed (yet: a new
  // agent's key is listed once its first handshake has reached the coordinator).
  std::string key_state(const std::string& key) const;
  void start(const std::string& heartbeat = "300ms") {
    std::vector<std::string> argv{EDGENAS_COORDINATOR_BIN,
                                  "--listen",
                                  endpoint(),
                                  "--admin",
                                  admin(),
                                  "--db",
                                  dir + "/coordinator.db",
                                  "--heartbeat-interval",
                                  heartbeat,
                                  "--log-level",
                                  "debug"};
    // Replies are deterministic unless a test asks for exploration (it is unit-tested).
    if (std::find(extra.begin(), extra.end(), "--explore") == extra.end())
      argv.insert(argv.end(), {"--explore", "0"});
    // The cold-start rule serves unless a test asks for the warm start (warm_start_test).
    if (std::find(extra.begin(), extra.end(), "--warm-start") == extra.end())
      argv.insert(argv.end(), {"--warm-start", "off"});
    if (auto_accept) argv.push_back("--auto-accept");
    argv.insert(argv.end(), extra.begin(), extra.end());
    proc.start(argv, dir + "/coordinator.log");
    ASSERT_TRUE(wait_for([&] { return client(200).call("status").ok(); }, 10'000)) << proc.log();
  }
};

struct Agent {
  std::string id, dir;
  std::string config;  // a TOML file passed with --config, when set
  // The program and what runs it (arm64_test: qemu-aarch64 and an arm64 build's agent).
  std::vector<std::string> command{EDGENAS_AGENT_BIN};
  int start_timeout_ms = 10'000;
  Process proc;
  std::string local() const { return "ipc://" + dir + "/agent.sock"; }
  // The CURVE public key the agent made on its first start ("" before).
  std::string public_key() const {
    auto k = proto::load_public_key(dir + "/agent.pub");
    return k ? *k : "";
  }
  void start(const Coordinator& c, const std::string& profile = "") {
    std::vector<std::string> argv = command;
    argv.insert(argv.end(), {"run", "--id", id, "--coordinator", c.endpoint(), "--state-dir", dir,
                             "--log-level", "debug", "--coordinator-key", c.public_key_file()});
    if (!config.empty()) {
      argv.push_back("--config");
      argv.push_back(config);
    }
    if (!profile.empty()) {
      argv.push_back("--profile");
      argv.push_back(std::string(EDGENAS_SOURCE_DIR) + "/simulations/profiles/" + profile +
                     ".toml");
    }
    std::filesystem::create_directories(dir);
    proc.start(argv, dir + "/agent.log");
    proto::AdminClient a(local(), 200);
    ASSERT_TRUE(wait_for([&] { return a.call("status").ok(); }, start_timeout_ms)) << proc.log();
  }
};

inline nlohmann::json Coordinator::ctl_json(std::vector<std::string> args) const {
  args.insert(args.begin(), "--json");
  auto [rc, out] = run(ctl(args));
  EXPECT_EQ(rc, 0) << out;
  return nlohmann::json::parse(out, nullptr, false);
}

inline std::string Coordinator::key_state(const std::string& key) const {
  auto j = ctl_json({"keys", "list"});
  if (!j.is_object()) return "";
  for (const auto& k : j["keys"])
    if (k["key"] == key) return k["state"];
  return "";
}

}  // namespace edgenas::it
