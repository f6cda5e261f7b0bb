#include "coordinator/core/keys.hpp"
#include "coordinator/core/cold_start_policy.hpp"

#include <gtest/gtest.h>

#include "../test_support.hpp"
#include "coordinator/core/coordinator_core.hpp"

namespace edgenas::coordinator {
namespace {
using namespace testing_support;

const std::string kA = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";  // Z85 text, 40 characters
const std::string kB = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
const std::string kAdmin = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6";

class KeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = temp_db("keys");
    open();
  }
  void open(bool auto_accept = false) {
    keys_.reset();
    store_.reset();
    auto s = TraceStore::open(path_);
    ASSERT_TRUE(s.ok());
    store_ = std::move(*s);
    keys_ = std::make_unique<KeyRegistry>(clock_, *store_, auto_accept, std::set{kAdmin});
    ASSERT_TRUE(keys_->load().ok());
  }
  std::string state_of(const std::string& key) {
    const auto listed = keys_->list();
    for (const auto& k : listed.value()["keys"])
      if (k["key"] == key) return k["state"];
    return "";
  }
  std::string path_;
  ManualClock clock_;
  std::unique_ptr<TraceStore> store_;
  std::unique_ptr<KeyRegistry> keys_;
};

TEST_F(KeysTest, UnknownKeysArePendingUntilAcceptedAndStatesSurviveARestart) {
  EXPECT_FALSE(keys_->authenticate("agents", kA, "10.0.0.1").allow);
  EXPECT_EQ(state_of(kA), "pending");
  EXPECT_EQ(keys_->authenticate("agents", kA, "10.0.0.1").reason, "key pending acceptance");
  ASSERT_TRUE(keys_->set_state(kA.substr(0, 8), KeyState::accepted).ok());  // by prefix
  EXPECT_TRUE(keys_->authenticate("agents", kA, "10.0.0.1").allow);
  ASSERT_TRUE(keys_->authorize_sender(kA, "box-a").ok());
  ASSERT_TRUE(keys_->flush_saves().ok());  // the io loop does this every round
  open();                                  // a restart: the store holds the states and the binding
  EXPECT_EQ(state_of(kA), "accepted");
  EXPECT_TRUE(keys_->authenticate("agents", kA, "10.0.0.1").allow);
  EXPECT_EQ(keys_->authorize_sender(kB, "box-a").error().code, "revoked");  // unknown key
  ASSERT_TRUE(keys_->set_state("box-a", KeyState::revoked).ok());           // by agent id
  EXPECT_FALSE(keys_->authenticate("agents", kA, "10.0.0.1").allow);
  EXPECT_EQ(keys_->authorize_sender(kA, "box-a").error().code, "revoked");
  open();
  EXPECT_EQ(state_of(kA), "revoked");
}

TEST_F(KeysTest, AKeySpeaksForOneAgentAndAnAgentIdForOneKey) {
  ASSERT_TRUE(keys_->set_state(kA, KeyState::accepted).ok());  // enrolled before first contact
  ASSERT_TRUE(keys_->set_state(kB, KeyState::accepted).ok());
  ASSERT_TRUE(keys_->authorize_sender(kA, "box-a").ok());
  EXPECT_EQ(keys_->authorize_sender(kA, "box-b").error().code, "forbidden");
  EXPECT_EQ(keys_->authorize_sender(kB, "box-a").error().code, "forbidden");
  ASSERT_TRUE(keys_->authorize_sender(kB, "box-b").ok());
  // After revoking A, box-a may enrol again with another accepted key (a re-imaged box).
  ASSERT_TRUE(keys_->set_state(kA, KeyState::revoked).ok());
  const std::string kC = "e)f8ZnB}.wQv]Vvx0U*Y%Dk7jIVhT:3=&Xb2w9a^";
  ASSERT_TRUE(keys_->set_state(kC, KeyState::accepted).ok());
  EXPECT_TRUE(keys_->authorize_sender(kC, "box-a").ok());
}

TEST_F(KeysTest, AdminKeysOpenOnlyTheAdminDomainAndBadNamesAreClearErrors) {
  EXPECT_TRUE(keys_->authenticate("admin", kAdmin, "").allow);
  EXPECT_FALSE(keys_->authenticate("admin", kA, "").allow);
  EXPECT_FALSE(keys_->authenticate("other", kA, "").allow);
  EXPECT_EQ(state_of(kA), "");  // the admin port does not enrol anything
  EXPECT_EQ(keys_->set_state("nobody", KeyState::accepted).error().code, "not_found");
  ASSERT_FALSE(keys_->authenticate("agents", kA, "").allow);
  ASSERT_FALSE(keys_->authenticate("agents", "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf8", "").allow);
  EXPECT_EQ(keys_->set_state("rq:rM>", KeyState::accepted).error().code, "bad_request");  // 2 match
}

TEST_F(KeysTest, AutoAcceptLetsUnknownKeysIn) {
  open(true);
  EXPECT_TRUE(keys_->authenticate("agents", kA, "10.0.0.2").allow);
  EXPECT_TRUE(keys_->authenticate("agents", kB, "10.0.0.3").allow);
  EXPECT_EQ(state_of(kA), "accepted");
  ASSERT_TRUE(keys_->flush_saves().ok());  // both rows, one transaction
  open(true);
  EXPECT_EQ(state_of(kA), "accepted");
  EXPECT_EQ(state_of(kB), "accepted");
  ASSERT_TRUE(keys_->set_state(kA, KeyState::revoked).ok());
  EXPECT_FALSE(keys_->authenticate("agents", kA, "10.0.0.2").allow);  // revoked stays out
}

TEST_F(KeysTest, TheCoreAnswersRevokedToAMessageFromAKeyNoLongerAccepted) {
  ColdStartPolicy policy;
  CoordinatorCore core(clock_, *store_, policy, CoreConfig{});
  ASSERT_TRUE(core.start().ok());
  core.set_authorizer(
      [&](const std::string& k, const std::string& a) { return keys_->authorize_sender(k, a); });
  proto::Register r;
  r.hostname = "h";
  r.devices = {{"cpu", 4, 1000, "procfs"}};
  const auto bytes =
      proto::encode(proto::Header{1, proto::MsgType::register_agent, 1, "box-a", 1}, r);
  auto reply_type = [&](const std::string& key) {
    std::vector<Outgoing> out;
    core.on_message("r", bytes, out, key);
    EXPECT_TRUE(core.flush(out).ok());
    EXPECT_EQ(out.size(), 1u);
    auto env = std::get<proto::Envelope>(proto::decode_envelope(out.at(0).bytes));
    if (env.header.type != proto::MsgType::error)
      return std::string(proto::to_string(env.header.type));
    return proto::decode_body<proto::ErrorMsg>(env)->code;
  };
  ASSERT_TRUE(keys_->set_state(kA, KeyState::accepted).ok());
  EXPECT_EQ(reply_type(kA), "welcome");
  ASSERT_TRUE(keys_->set_state(kA, KeyState::revoked).ok());
  EXPECT_EQ(reply_type(kA), "revoked");
  EXPECT_EQ(reply_type(kB), "revoked");
}

}  // namespace
}  // namespace edgenas::coordinator
