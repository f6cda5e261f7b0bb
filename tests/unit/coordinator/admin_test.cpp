#include "coordinator/core/admin.hpp"
#include "coordinator/core/cold_start_policy.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <random>

#include "../test_support.hpp"
#include "common/util/sqlite.hpp"
#include "common/util/utf8.hpp"

namespace edgenas::coordinator {
namespace {
using namespace testing_support;
using nlohmann::json;

class AdminTest : public ::testing::Test {
 protected:
  void SetUp() override { open(temp_db("admin"), true); }
  void open(const std::string& path, bool fill) {
    path_ = path;
    admin_.reset();
    core_.reset();
    store_.reset();
    auto s = TraceStore::open(path);
    ASSERT_TRUE(s.ok());
    store_ = std::move(*s);
    core_ = std::make_unique<CoordinatorCore>(clock_, *store_, policy_, CoreConfig{});
    ASSERT_TRUE(core_->start().ok());
    admin_ = std::make_unique<AdminService>(*core_);
    if (!fill) return;
    proto::Register r;
    r.hostname = "h";
    r.devices = {{"cpu", 4, 1000, "procfs"}};
    deliver(r);
    for (int i = 0; i < 25; ++i) deliver(trace("t" + std::to_string(100 + i)));
  }
  template <class T>
  void deliver(const T& body) {
    std::vector<Outgoing> out;
    core_->on_message(
        "r", proto::encode(proto::Header{1, proto::MsgType::error, 1, "box1", 1}, body), out);
    ASSERT_TRUE(core_->flush(out).ok());
  }
  proto::AdminResponse call(const std::string& op, json args = json::object()) {
    std::vector<Outgoing> out;
    return admin_->handle({op, std::move(args)}, out);
  }

  std::string path_;
  ManualClock clock_;
  ColdStartPolicy policy_;
  std::unique_ptr<TraceStore> store_;
  std::unique_ptr<CoordinatorCore> core_;
  std::unique_ptr<AdminService> admin_;
};

TEST_F(AdminTest, Status) {
  auto r = call("status");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.result["agents"]["alive"], 1);
  EXPECT_EQ(r.result["store"]["traces"], 25);
  EXPECT_EQ(r.result["protocol_version"], proto::kProtocolVersion);
}

TEST_F(AdminTest, AgentsListAndShow) {
  auto l = call("agents.list");
  ASSERT_EQ(l.result["agents"].size(), 1u);
  EXPECT_EQ(l.result["agents"][0]["agent_id"], "box1");
  // Its Source over time comes from its heartbeats, a sample a minute.
  for (uint64_t seq = 1; seq <= 3; ++seq) {
    proto::Heartbeat hb;
    hb.seq = seq;
    hb.source.devices = {{"cpu", static_cast<int>(seq), 1000}};
    hb.activity = "idle";
    deliver(hb);
    clock_.advance(StateHistory::kStepMs / 2);
  }
  auto s = call("agents.show", {{"agent_id", "box1"}});
  ASSERT_TRUE(s.ok);
  EXPECT_EQ(s.result["registration"]["hostname"], "h");
  const auto& history = s.result["history"]["samples"];
  ASSERT_EQ(history.size(), 2u) << s.result["history"];  // 0 and 60 s; 30 s was within a step
  EXPECT_EQ(history[0]["cpu_free_nodes"], 1);
  EXPECT_EQ(history[1]["cpu_free_nodes"], 3);
  EXPECT_EQ(s.result["history"]["step_s"], 60);
  auto missing = call("agents.show", {{"agent_id", "nope"}});
  EXPECT_FALSE(missing.ok);
  EXPECT_EQ(missing.code, proto::err::kNotFound);
}

TEST_F(AdminTest, TracesPageWithACursor) {
  std::set<std::string> seen;
  json args{{"limit", 10}};
  for (int page = 0; page < 5; ++page) {
    auto r = call("traces.export", args);
    ASSERT_TRUE(r.ok) << r.message;
    for (const auto& t : r.result["traces"])
      EXPECT_TRUE(seen.insert(t["trace_id"].get<std::string>()).second);
    if (r.result["next"].is_null()) break;
    args["since_ms"] = r.result["next"]["since_ms"];
    args["after_trace_id"] = r.result["next"]["after_trace_id"];
  }
  EXPECT_EQ(seen.size(), 25u);
  auto list = call("traces.list", {{"agent_id", "nobody"}});
  EXPECT_TRUE(list.result["traces"].empty());
}

// Trace reads that wait until the test lets them finish, on the test's own store connection.
class HeldTraceReads final : public TraceReads {
 public:
  explicit HeldTraceReads(TraceStore& store) : store_(store) {}
  void read(TraceQuery q, Done done) override { held_.push_back({std::move(q), std::move(done)}); }
  std::size_t held() const { return held_.size(); }
  void finish() {
    for (auto& [q, done] : held_) {
      auto rows = store_.list_traces(q.filter);
      done(rows ? Expected<json>(trace_page(*rows, q)) : rows.error());
    }
    held_.clear();
  }

 private:
  TraceStore& store_;
  std::vector<std::pair<TraceQuery, Done>> held_;
};

TEST_F(AdminTest, TracePagesWaitForTheirReaderAndEverythingElseAnswersAtOnce) {
  const auto direct = call("traces.export", {{"limit", 7}});
  ASSERT_TRUE(direct.ok);
  auto reader_store = TraceStore::open(path_);
  ASSERT_TRUE(reader_store.ok());
  HeldTraceReads reads(**reader_store);
  admin_->attach_trace_reads(&reads);
  std::vector<Outgoing> out;
  std::vector<proto::AdminResponse> answers;
  auto collect = [&answers](proto::AdminResponse r) { answers.push_back(std::move(r)); };
  admin_->handle({"traces.export", {{"limit", 7}}}, out, {"t", false}, collect);
  admin_->handle({"traces.list", {{"limit", 0}}}, out, {"t", false}, collect);  // refused at once
  admin_->handle({"status", json::object()}, out, {"t", false}, collect);
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[0].code, proto::err::kBadRequest);
  EXPECT_TRUE(answers[1].ok);
  EXPECT_EQ(reads.held(), 1u);  // the page waits for its reader
  reads.finish();
  ASSERT_EQ(answers.size(), 3u);
  ASSERT_TRUE(answers[2].ok) << answers[2].message;
  EXPECT_EQ(answers[2].result, direct.result);  // the same page as read on the io thread
}

TEST_F(AdminTest, HparamsAskValidatesTheContext) {
  auto ok = call("hparams.ask", {{"context", proto::to_json(context())}});
  ASSERT_TRUE(ok.ok) << ok.message;
  EXPECT_EQ(ok.result["policy"], "cold-start");
  auto bad_ctx = proto::to_json(context());
  bad_ctx["source"]["devices"][0]["free_memory_mb"] = -1;
  auto bad = call("hparams.ask", {{"context", bad_ctx}});
  EXPECT_FALSE(bad.ok);
  EXPECT_NE(bad.message.find("free_memory_mb"), std::string::npos);
  EXPECT_FALSE(call("hparams.ask").ok);
}

TEST_F(AdminTest, BadRequestsAreClear) {
  EXPECT_EQ(call("drop.tables").code, proto::err::kUnknownOp);
  EXPECT_EQ(call("traces.list", {{"limit", "ten"}}).code, proto::err::kBadRequest);
  EXPECT_EQ(call("traces.list", {{"limit", 0}}).code, proto::err::kBadRequest);
  EXPECT_EQ(call("agents.command", {{"agent_id", "box1"}, {"action", "explode"}}).code,
            proto::err::kBadRequest);
}

// Every admin view of the store, as the coordinator sends it: the response must encode to
// msgpack a strict decoder accepts (UTF-8 throughout) and render as JSON text.
void expect_every_view_renders(
    const std::function<proto::AdminResponse(const std::string&, json)>& call) {
  for (auto [op, args] :
       std::vector<std::pair<std::string, json>>{{"status", json::object()},
                                                 {"agents.list", json::object()},
                                                 {"agents.show", {{"agent_id", "box1"}}},
                                                 {"traces.list", json::object()},
                                                 {"traces.export", json::object()},
                                                 {"predictor.fleet", json::object()}}) {
    proto::AdminResponse r;
    ASSERT_NO_THROW(r = call(op, args)) << op;
    proto::Header h;
    const auto bytes = proto::encode(h, r);
    auto env = proto::decode_envelope(bytes);
    ASSERT_TRUE(std::holds_alternative<proto::Envelope>(env)) << op;
    auto strict = proto::decode_body<proto::AdminResponse>(std::get<proto::Envelope>(env));
    ASSERT_TRUE(strict.ok()) << op << ": " << strict.error().message;
    std::string text;
    ASSERT_NO_THROW(text = utf8::json_text(strict->result)) << op;
    EXPECT_TRUE(utf8::valid(text)) << op;
  }
}

TEST_F(AdminTest, RowsAnOlderVersionStoredWithBadBytesAreRepairedOnRead) {
  // What a coordinator before the UTF-8 check stored: a hostname and a trace error with bytes
  // that are not UTF-8 (written here behind the store's back, as its decoder now refuses them).
  {
    auto db = sqlite::Db::open(path_);
    ASSERT_TRUE(db.ok());
    auto reg = proto::pack_struct(
        proto::Register{"", "boxABC", {{"cpu", 4, 1000, "procfs"}}, "model", "", ""});
    reg.replace(reg.find("boxABC"), 6, "box\xff\xfe\x8c");
    auto q =
        (*db)->prepare("UPDATE agents SET registration = ?, hostname = ? WHERE agent_id = 'box1'");
    ASSERT_TRUE(q.ok());
    q->bind_blob(1, reg).bind(2, std::string_view("box\xff\xfe\x8c"));
    q->step();
    Trace t = trace("t100");
    t.outcome.status = TraceStatus::failed;
    t.outcome.error = "oops";
    auto body = proto::pack_struct(t);
    body[body.find("oops") + 3] = '\xff';
    auto q2 = (*db)->prepare("UPDATE traces SET body = ? WHERE trace_id = 't100'");
    ASSERT_TRUE(q2.ok());
    q2->bind_blob(1, body);
    q2->step();
    ASSERT_TRUE(q2->status().ok()) << q2->status().error().message;
  }
  open(path_, false);  // a new coordinator process on that store
  expect_every_view_renders([&](const std::string& op, json args) { return call(op, args); });
  auto shown = call("agents.show", {{"agent_id", "box1"}});
  ASSERT_TRUE(shown.ok) << shown.message;
  EXPECT_EQ(shown.result["registration"]["hostname"], "box\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  std::string error = "<t100 not exported>";
  auto exported = call("traces.export");
  ASSERT_TRUE(exported.ok) << exported.message;
  for (const auto& t : exported.result["traces"])
    if (t["trace_id"] == "t100") error = t["outcome"].value("error", "<none>");
  EXPECT_EQ(error, "oop\xEF\xBF\xBD");
}

// The bytes a hostile peer sends with `text` in every string that make(placeholder) fills with
// it: the encoder mends what it writes, so the message is made twice with two placeholders of
// the text's length, and where the two differ the raw text goes.
std::string with_raw_text(const std::function<std::string(const std::string&)>& make,
                          const std::string& text) {
  std::string a = make(std::string(text.size(), '~')), b = make(std::string(text.size(), '^'));
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] == b[i]) continue;
    a.replace(i, text.size(), text);
    i += text.size() - 1;
  }
  return a;
}

// The property: whatever text the decoder accepts can be stored and shown by every view; what
// it refuses is a bad_field and is not stored.
TEST_F(AdminTest, AnyTextTheDecoderAcceptsIsShownByEveryView) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> byte(0, 255), len(1, 24);
  int accepted = 0, refused = 0;
  for (int i = 0; i < 300; ++i) {
    std::string text;
    for (int n = len(rng); n > 0; --n) text += static_cast<char>(byte(rng));
    if (i % 3 == 0) text = utf8::repaired(text);  // a share of valid text with odd characters
    const bool valid = utf8::valid(text);
    const std::string agent = "q" + std::to_string(i);
    auto reg = [&](const std::string& s) {
      proto::Register r{"v" + s, "h" + s, {{"cpu", 4, 1000, "probe" + s}}, "model", s, "m" + s};
      return proto::encode(proto::Header{1, proto::MsgType::error, 1, agent, 1}, r);
    };
    auto failed = [&](const std::string& s) {
      Trace t = trace("p" + std::to_string(i));
      t.outcome.status = TraceStatus::failed;
      t.outcome.error = "e" + s;
      return proto::encode(proto::Header{1, proto::MsgType::error, 2, "box1", 1}, t);
    };
    for (const auto& raw : {with_raw_text(reg, text), with_raw_text(failed, text)}) {
      std::vector<Outgoing> out;
      ASSERT_NO_THROW(core_->on_message("r" + agent, raw, out));
      ASSERT_TRUE(core_->flush(out).ok());
      ASSERT_FALSE(out.empty());
      auto env = proto::decode_envelope(out.back().bytes);  // every reply decodes strictly
      ASSERT_TRUE(std::holds_alternative<proto::Envelope>(env));
      const auto& e = std::get<proto::Envelope>(env);
      if (valid) {
        EXPECT_NE(e.header.type, proto::MsgType::error) << i;
      } else {
        ASSERT_EQ(e.header.type, proto::MsgType::error) << i;
        EXPECT_EQ(proto::decode_body<proto::ErrorMsg>(e)->code, proto::err::kBadField);
      }
    }
    (valid ? accepted : refused)++;
  }
  EXPECT_GT(accepted, 50);
  EXPECT_GT(refused, 50);
  auto status = call("status");
  EXPECT_EQ(status.result["store"]["traces"], 25 + accepted);
  expect_every_view_renders([&](const std::string& op, json args) { return call(op, args); });
}

}  // namespace
}  // namespace edgenas::coordinator
