// CURVE and key enrolment against a real coordinator over real sockets: an unknown agent key
// waits until an admin accepts it, a revoked key is refused, plaintext is refused, a key speaks
// for one agent only, and an agent key does not open the admin port.
#include <sys/stat.h>

#include <fstream>
#include <zmq.hpp>

#include "common/protocol/codec.hpp"
#include "harness.hpp"

namespace edgenas::it {
namespace {

bool registered(const Coordinator& c, const std::string& id) {
  auto r = c.client().call("agents.show", {{"agent_id", id}});
  return r.ok() && (*r)["state"] != "offline";
}

// A hand-made agent: a DEALER socket with its own keys (or none), speaking raw protocol.
struct RawAgent {
  zmq::context_t ctx{1};
  zmq::socket_t sock{ctx, zmq::socket_type::dealer};
  RawAgent(const Coordinator& c, const std::optional<proto::CurveKeyPair>& keys) {
    sock.set(zmq::sockopt::linger, 0);
    sock.set(zmq::sockopt::rcvtimeo, 1500);
    if (keys) proto::apply_client(sock, {*proto::load_public_key(c.public_key_file()), *keys});
    sock.connect(c.endpoint());
  }
  // Sends a Register as `id`; returns the reply's type (or an Error's code), "" on no reply.
  std::string register_as(const std::string& id) {
    proto::Register reg;
    reg.agent_version = "raw";
    reg.hostname = "raw";
    reg.devices.push_back({"cpu", 2, 1024, "raw"});
    const proto::Header h{proto::kProtocolVersion, proto::MsgType::register_agent, 1, id, 1};
    sock.send(zmq::buffer(proto::encode(h, reg)), zmq::send_flags::none);
    zmq::message_t reply;
    if (!sock.recv(reply)) return "";
    auto d = proto::decode_envelope(reply.to_string_view());
    if (!std::holds_alternative<proto::Envelope>(d)) return "<undecodable>";
    const auto& env = std::get<proto::Envelope>(d);
    if (env.header.type == proto::MsgType::error) {
      auto e = proto::decode_body<proto::ErrorMsg>(env);
      return e ? e->code : "<bad error>";
    }
    return std::string(proto::to_string(env.header.type));
  }
};

class SecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir("security");
    coord_.dir = dir_;
    coord_.auto_accept = false;
    coord_.start();
  }
  std::string dir_;
  Coordinator coord_;
};

TEST_F(SecurityTest, AnUnknownAgentWaitsForAcceptanceAndARevokedOneIsCutOff) {
  Agent a;
  a.id = "box-1";
  a.dir = dir_ + "/box-1";
  a.start(coord_);
  // The agent made its key pair on first start: secret 0600, public beside it.
  struct stat st {};
  ASSERT_EQ(::stat((a.dir + "/agent.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto pub = proto::load_public_key(a.dir + "/agent.pub");
  ASSERT_TRUE(pub.ok());

  // Unknown key: pending, and the agent is not let in.
  ASSERT_TRUE(wait_for([&] { return coord_.key_state(*pub) == "pending"; }, 10'000));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_FALSE(registered(coord_, "box-1"));

  // Accepted by a prefix of its key: the agent gets in on its own (reconnects) and is bound.
  auto [rc, out] = run(coord_.ctl({"keys", "accept", "--", pub->substr(0, 10)}));
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("accepted"), std::string::npos) << out;
  ASSERT_TRUE(wait_for([&] { return registered(coord_, "box-1"); }, 20'000))
      << a.proc.log() << coord_.proc.log();
  auto keys = coord_.ctl_json({"keys", "list"});
  EXPECT_EQ(keys["keys"][0]["agent_id"], "box-1");

  // Revoked by agent id: its next message is refused and a new connection with the key is
  // not accepted at all.
  std::tie(rc, out) = run(coord_.ctl({"keys", "revoke", "box-1"}));
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(coord_.key_state(*pub), "revoked");
  auto pair = proto::load_keypair(a.dir + "/agent.key");
  ASSERT_TRUE(pair.ok());
  RawAgent thief(coord_, *pair);
  EXPECT_EQ(thief.register_as("box-1"), "");
  // The running agent notices (its link is dropped on 'revoked') and keeps running.
  ASSERT_TRUE(wait_for([&] { return a.proc.log().find("revoked") != std::string::npos; }, 10'000))
      << a.proc.log();
  EXPECT_TRUE(a.proc.running());
  // The coordinator keeps serving.
  EXPECT_TRUE(coord_.client().call("status").ok());
  // Keys survive a restart: still revoked.
  coord_.proc.stop();
  coord_.start();
  EXPECT_EQ(coord_.key_state(*pub), "revoked");
}

TEST_F(SecurityTest, PlaintextIsRefusedAndAKeySpeaksForOneAgentOnly) {
  // No CURVE at all: the handshake fails, nothing is answered.
  RawAgent plain(coord_, std::nullopt);
  EXPECT_EQ(plain.register_as("plain"), "");

  // An accepted key registers as one agent; the same key cannot speak for another.
  auto keys = proto::generate_keypair();
  ASSERT_TRUE(keys.ok());
  RawAgent raw(coord_, *keys);
  EXPECT_EQ(raw.register_as("raw-1"), "");  // pending: refused at the handshake
  auto [rc, out] = run(coord_.ctl({"keys", "accept", "--", keys->public_key}));
  ASSERT_EQ(rc, 0) << out;
  RawAgent ok(coord_, *keys);
  EXPECT_EQ(ok.register_as("raw-1"), "welcome");
  EXPECT_EQ(ok.register_as("raw-2"), proto::err::kForbidden);
  // Nor can another accepted key take raw-1's id.
  auto other = proto::generate_keypair();
  ASSERT_TRUE(other.ok());
  std::tie(rc, out) = run(coord_.ctl({"keys", "accept", "--", other->public_key}));
  ASSERT_EQ(rc, 0) << out;
  RawAgent imposter(coord_, *other);
  EXPECT_EQ(imposter.register_as("raw-1"), proto::err::kForbidden);
  EXPECT_EQ(imposter.register_as("raw-3"), "welcome");

  // An accepted agent key does not open the admin port; neither does no key.
  proto::AdminClient agent_on_admin(
      coord_.admin(), 1000,
      proto::CurveClient{*proto::load_public_key(coord_.public_key_file()), *keys});
  EXPECT_FALSE(agent_on_admin.call("status").ok());
  proto::AdminClient plain_admin(coord_.admin(), 1000);
  EXPECT_FALSE(plain_admin.call("status").ok());
  // edgenasctl says what is wrong when the server key is the wrong one.
  const std::string wrong = dir_ + "/wrong.pub";
  ASSERT_TRUE(proto::save_public_key(wrong, other->public_key).ok());
  std::tie(rc, out) = run({EDGENAS_CTL_BIN, "--admin", coord_.admin(), "--key", dir_ + "/admin.key",
                           "--server-key", wrong, "--timeout", "500ms", "status"});
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("key"), std::string::npos) << out;
  // And the admin key still works.
  EXPECT_TRUE(coord_.client().call("status").ok());
}

TEST_F(SecurityTest, KeyFilesOthersCanReadAreRefused) {
  auto keys = proto::generate_keypair();
  ASSERT_TRUE(keys.ok());
  const std::string path = dir_ + "/loose.key";
  ASSERT_TRUE(proto::save_keypair(path, *keys).ok());
  ::chmod(path.c_str(), 0644);
  auto loaded = proto::load_keypair(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message.find("chmod 600"), std::string::npos) << loaded.error().message;
  // The agent refuses to start on it, with that message.
  std::ofstream(dir_ + "/loose.toml") << "[agent]\nkey_file = \"" << path << "\"\n";
  auto [rc, out] = run({EDGENAS_AGENT_BIN, "run", "--id", "loose", "--coordinator",
                        coord_.endpoint(), "--state-dir", dir_ + "/loose", "--coordinator-key",
                        coord_.public_key_file(), "--config", dir_ + "/loose.toml"},
                       10);
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("loose.key"), std::string::npos) << out;
  // A malformed key file, and no coordinator key at all: clear errors too.
  std::ofstream(dir_ + "/junk.key") << "public = \"nope\"\n";
  ::chmod((dir_ + "/junk.key").c_str(), 0600);
  std::ofstream(dir_ + "/junk.toml") << "[agent]\nkey_file = \"" << dir_ << "/junk.key\"\n";
  std::tie(rc, out) = run({EDGENAS_AGENT_BIN, "run", "--id", "junk", "--coordinator",
                           coord_.endpoint(), "--state-dir", dir_ + "/junk", "--coordinator-key",
                           coord_.public_key_file(), "--config", dir_ + "/junk.toml"},
                          10);
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("not an edgenas key pair"), std::string::npos) << out;
  std::tie(rc, out) = run({EDGENAS_AGENT_BIN, "run", "--id", "nokey", "--coordinator",
                           coord_.endpoint(), "--state-dir", dir_ + "/nokey"},
                          10);
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("coordinator_key is not set"), std::string::npos) << out;
}

}  // namespace
}  // namespace edgenas::it
