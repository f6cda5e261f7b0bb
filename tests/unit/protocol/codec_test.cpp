#include "common/protocol/codec.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <random>

namespace edgenas::proto {
namespace {

Context sample_context() {
  Context c;
  c.source.devices = {{"cpu", 3, 2048}, {"npu0", 2, 4096}};
  c.source.power_w = 12.5;
  c.source.power_modelled = true;
  c.source.window_ms = 5000;
  c.job.tasks = {{"ocr", 50, {{"cpu", 30, 0.4, 2}, {"npu0", 5, 0.1, 1}}}};
  c.dataset = DatasetShape{10, 28, 28, 1, 60000};
  return c;
}

Trace sample_trace() {
  Trace t;
  t.trace_id = "box1-42";
  t.created_ms = 1700000000000;
  t.context = sample_context();
  t.hparams = {5, 64, 3, Loss::focal, 99};
  t.policy = "cold-start";
  t.outcome.accuracy = 0.993;
  t.outcome.latency_ms = 0.8;
  t.outcome.met_latency = true;
  t.outcome.trials = 40;
  t.outcome.device = "cpu";
  return t;
}

Header header(const std::string& agent = "box1") {
  Header h;
  h.msg_id = 7;
  h.agent_id = agent;
  h.ts_ms = 1700000000000;
  return h;
}

template <class T>
T round_trip(const T& body) {
  auto bytes = encode(header(), body);
  auto decoded = decode_envelope(bytes);
  EXPECT_TRUE(std::holds_alternative<Envelope>(decoded));
  const auto& env = std::get<Envelope>(decoded);
  EXPECT_EQ(env.header.type, MsgTypeOf<T>::value);
  EXPECT_EQ(env.header.msg_id, 7u);
  EXPECT_EQ(env.header.agent_id, "box1");
  auto out = decode_body<T>(env);
  EXPECT_TRUE(out.ok()) << (out ? "" : out.error().message);
  return out ? *out : T{};
}

Error envelope_error(std::string_view bytes) {
  auto decoded = decode_envelope(bytes);
  EXPECT_TRUE(std::holds_alternative<EnvelopeError>(decoded));
  return std::holds_alternative<EnvelopeError>(decoded) ? std::get<EnvelopeError>(decoded).error
                                                        : Error{};
}

TEST(Codec, RoundTripsEveryMessage) {
  Register reg{"0.1.0",
               "host",
               {{"cpu", 8, 8192, "procfs"}, {"npu0", 2, 4096, "simulated:atlas200dk"}},
               "simulated",
               "atlas200dk",
               "aarch64"};
  auto reg2 = round_trip(reg);
  EXPECT_EQ(reg2.devices.size(), 2u);
  EXPECT_EQ(reg2.devices[1].probe, "simulated:atlas200dk");
  EXPECT_EQ(reg2.profile, "atlas200dk");
  EXPECT_EQ(reg2.machine, "aarch64");

  Reregister rr{reg, {}};
  rr.state.queue = sample_context().job;
  rr.state.source = sample_context().source;
  rr.state.outbox_depth = 3;
  auto rr2 = round_trip(rr);
  EXPECT_EQ(rr2.state.queue.tasks.at(0).rows.at(1).device, "npu0");
  EXPECT_EQ(rr2.state.outbox_depth, 3);

  Welcome w{"epoch1", 5000, 3, 1 << 20, 10000, true};
  EXPECT_TRUE(round_trip(w).restored);

  Heartbeat hb{9, sample_context().source, 1, 2, "idle", std::nullopt};
  auto hb2 = round_trip(hb);
  EXPECT_EQ(hb2.seq, 9u);
  EXPECT_DOUBLE_EQ(hb2.source.power_w, 12.5);
  EXPECT_FALSE(hb2.search.has_value());
  hb.activity = "searching";
  hb.search = SearchProgress{"box-s1", "running", 12, 0.97, 0.4, 30, 600};
  auto hb3 = round_trip(hb);
  ASSERT_TRUE(hb3.search.has_value());
  EXPECT_EQ(hb3.search->trials, 12);
  EXPECT_EQ(hb3.search->phase, "running");

  EXPECT_EQ(round_trip(HeartbeatAck{9}).seq, 9u);
  EXPECT_EQ(round_trip(QueueReport{4, sample_context().job}).job.tasks.at(0).task_id, "ocr");

  HparamRequest req{"r1", sample_context()};
  auto req2 = round_trip(req);
  ASSERT_TRUE(req2.context.dataset.has_value());
  EXPECT_EQ(req2.context.dataset->classes, 10);

  HparamReply rep{"r1", {3, 16, 5, Loss::label_smoothing_ce, 123}, "cold-start", 0, false, "why"};
  EXPECT_EQ(round_trip(rep).hparams, rep.hparams);

  auto t2 = round_trip(sample_trace());
  EXPECT_EQ(t2.trace_id, "box1-42");
  EXPECT_EQ(t2.hparams.loss, Loss::focal);
  EXPECT_NEAR(t2.outcome.accuracy, 0.993, 1e-12);

  EXPECT_EQ(round_trip(Ack{{"a", "b"}}).trace_ids.size(), 2u);

  Command cmd{"c1", CommandAction::start_search, {{"budget_s", 60}}};
  auto cmd2 = round_trip(cmd);
  EXPECT_EQ(cmd2.action, CommandAction::start_search);
  EXPECT_EQ(cmd2.args["budget_s"], 60);

  EXPECT_EQ(round_trip(ErrorMsg{"bad_field", "x", 7}).ref_msg_id, 7u);

  AdminRequest ar{"traces.list", {{"agent_id", "box1"}, {"limit", 5}}};
  EXPECT_EQ(round_trip(ar).args["limit"], 5);
  AdminResponse resp{true, "", "", {{"rows", {1, 2, 3}}}};
  EXPECT_EQ(round_trip(resp).result["rows"].size(), 3u);
}

TEST(Codec, OptionalFieldsMayBeAbsent) {
  HparamRequest req{"r1", sample_context()};
  req.context.dataset.reset();
  EXPECT_FALSE(round_trip(req).context.dataset.has_value());
  EXPECT_FALSE(round_trip(sample_trace()).outcome.progress.has_value());  // older agents
}

// The fleet's latency models travel with a reply only when the agent holds an older version;
// peers that predate them neither send nor read the fields.
TEST(Codec, LatencyModelsTravelOnlyWhenSentAndAreCheckedWhenTheyDo) {
  HparamRequest req{"r1", sample_context()};
  EXPECT_FALSE(to_json(req).contains("latency_version"));
  EXPECT_EQ(round_trip(req).latency_version, 0);
  req.latency_version = 4;
  EXPECT_EQ(round_trip(req).latency_version, 4);
  auto j = to_json(req);
  j["latency_version"] = -1;
  auto bad = from_json<HparamRequest>(j);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("latency_version"), std::string::npos) << bad.error().message;

  HparamReply rep{"r1", {3, 16, 5, Loss::focal, 1}, "predictor", 2, false, ""};
  EXPECT_FALSE(to_json(rep).contains("latency"));
  EXPECT_FALSE(round_trip(rep).latency.has_value());
  rep.latency = LatencyModelsOffer{5, {{"version", 5}, {"kinds", nlohmann::json::array()}}};
  auto back = round_trip(rep);
  ASSERT_TRUE(back.latency.has_value());
  EXPECT_EQ(back.latency->version, 5);
  EXPECT_EQ(back.latency->models["version"], 5);
  j = to_json(rep);
  j["latency"]["version"] = 0;
  auto zero = from_json<HparamReply>(j);
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.error().message.find("latency.version"), std::string::npos)
      << zero.error().message;
}

TEST(Codec, AnUnhealthyDeviceIsSentOnlyWhenItIsOne) {
  Context c = sample_context();
  auto j = to_json(c);
  EXPECT_FALSE(
      j["source"]["devices"][1].contains("unhealthy"));  // older coordinators see no change
  c.source.devices[1].unhealthy = true;
  j = to_json(c);
  EXPECT_EQ(j["source"]["devices"][1]["unhealthy"], true);
  auto back = from_json<Context>(j);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_TRUE(back->source.devices[1].unhealthy);
  EXPECT_FALSE(back->source.devices[0].unhealthy);
  j["source"]["devices"][1]["unhealthy"] = "yes";
  back = from_json<Context>(j);
  ASSERT_FALSE(back.ok());
  EXPECT_NE(back.error().message.find("source.devices[1].unhealthy"), std::string::npos)
      << back.error().message;
}

TEST(Codec, TraceProgressRoundTripsAndIsChecked) {
  Trace t = sample_trace();
  t.outcome.progress = ProgressCurve{120, {{3.5, 0.41}, {40, 0.93}}};
  auto t2 = round_trip(t);
  ASSERT_TRUE(t2.outcome.progress.has_value());
  EXPECT_DOUBLE_EQ(t2.outcome.progress->compute_s, 120);
  ASSERT_EQ(t2.outcome.progress->points.size(), 2u);
  EXPECT_DOUBLE_EQ(t2.outcome.progress->points[1].reward, 0.93);

  t.outcome.progress->points[1].reward = 0.2;  // falls: not a best-so-far curve
  auto out = decode_body<Trace>(std::get<Envelope>(decode_envelope(encode(header(), t))));
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message.find("outcome.progress"), std::string::npos) << out.error().message;
  t.outcome.progress->points.assign(limits::kMaxProgressPoints + 1, {1, 0.5});
  out = decode_body<Trace>(std::get<Envelope>(decode_envelope(encode(header(), t))));
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message.find("outcome.progress.points"), std::string::npos)
      << out.error().message;
}

TEST(Codec, TheSearchsParetoFrontRoundTripsAndIsChecked) {
  Trace t = sample_trace();
  EXPECT_FALSE(to_json(t)["outcome"].contains("pareto"));  // older peers see no change
  t.outcome.pareto = ParetoFront{{{"c8k3s1-h0", 0.81, 0.02}, {"c16k3s2b-h64", 0.93, 0.05}}};
  auto t2 = round_trip(t);
  ASSERT_TRUE(t2.outcome.pareto.has_value());
  ASSERT_EQ(t2.outcome.pareto->points.size(), 2u);
  EXPECT_EQ(t2.outcome.pareto->points[1].arch, "c16k3s2b-h64");
  EXPECT_DOUBLE_EQ(t2.outcome.pareto->points[1].accuracy, 0.93);

  t.outcome.pareto->points[1].accuracy = 0.5;  // slower and worse: dominated, not a front
  auto out = decode_body<Trace>(std::get<Envelope>(decode_envelope(encode(header(), t))));
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message.find("outcome.pareto"), std::string::npos) << out.error().message;
  t.outcome.pareto->points.assign(limits::kMaxParetoPoints + 1, {"c8k3s1-h0", 0.5, 1});
  out = decode_body<Trace>(std::get<Envelope>(decode_envelope(encode(header(), t))));
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message.find("outcome.pareto.points"), std::string::npos)
      << out.error().message;
}

TEST(Codec, MeasuredLatenciesTravelOnlyWhenPresentAndAreChecked) {
  Trace t = sample_trace();
  EXPECT_FALSE(to_json(t)["outcome"].contains("measured_latency"));  // older peers see no change
  t.outcome.measured_latency =
      LatencyMeasurements{"cpu",
                          "ARM Cortex-A55",
                          "libtorch 1.13.1",
                          1,
                          "cnn",
                          {{"c16k3s2b-h64", 0.042}, {"c32k5s1brh-h0", 0.31}}};
  auto t2 = round_trip(t);
  ASSERT_TRUE(t2.outcome.measured_latency.has_value());
  EXPECT_EQ(t2.outcome.measured_latency->kind, "ARM Cortex-A55");
  ASSERT_EQ(t2.outcome.measured_latency->samples.size(), 2u);
  EXPECT_EQ(t2.outcome.measured_latency->samples[1].arch, "c32k5s1brh-h0");
  EXPECT_DOUBLE_EQ(t2.outcome.measured_latency->samples[1].ms, 0.31);
  auto refused = [&](const Trace& bad) {
    auto out = decode_body<Trace>(std::get<Envelope>(decode_envelope(encode(header(), bad))));
    EXPECT_FALSE(out.ok());
    return out.ok() ? std::string() : out.error().message;
  };
  Trace bad = t;
  bad.outcome.measured_latency->samples[0].arch = "c16 k3; DROP TABLE";
  EXPECT_NE(refused(bad).find("outcome.measured_latency.samples[0].arch"), std::string::npos);
  bad = t;
  bad.outcome.measured_latency->samples[1].ms = 0;
  EXPECT_NE(refused(bad).find("samples[1].ms"), std::string::npos);
  bad = t;
  bad.outcome.measured_latency->kind = std::string(200, 'x');
  EXPECT_NE(refused(bad).find("measured_latency.kind"), std::string::npos);
  bad = t;
  bad.outcome.measured_latency->samples.assign(limits::kMaxLatencySamples + 1, {"c4k1s1-h0", 1});
  EXPECT_NE(refused(bad).find("measured_latency.samples"), std::string::npos);
}

TEST(Codec, RejectsRandomBytesWithoutCrashing) {
  std::mt19937 rng(1);
  for (int i = 0; i < 2000; ++i) {
    std::string junk(rng() % 64, '\0');
    for (auto& c : junk) c = static_cast<char>(rng());
    auto decoded = decode_envelope(junk);
    if (auto* env = std::get_if<Envelope>(&decoded)) {
      (void)decode_body<Trace>(*env);  // whatever it is, decoding must not crash
    }
  }
}

TEST(Codec, HugeDeclaredArrayIsRefusedBeforeAllocation) {
  // 0xdd = array32 with a count of 2^32-1 and no elements: 5 bytes.
  const std::string bomb("\xdd\xff\xff\xff\xff", 5);
  EXPECT_EQ(envelope_error(bomb).code, err::kTooLarge);
  const std::string map_bomb("\xdf\xff\xff\xff\xff", 5);
  EXPECT_EQ(envelope_error(map_bomb).code, err::kTooLarge);
  const std::string str_bomb("\xdb\xff\xff\xff\xff", 5);
  EXPECT_NE(envelope_error(str_bomb).code, "");
}

TEST(Codec, DeepNestingIsRefused) {
  std::string deep(100, '\x91');  // 100 nested one-element arrays
  deep += '\xc0';
  EXPECT_EQ(envelope_error(deep).code, err::kTooLarge);
}

TEST(Codec, WrongVersionIsReportedWithTheHeader) {
  auto bytes =
      encode_raw(Header{2, MsgType::heartbeat, 5, "box1", 1}, pack_struct(HeartbeatAck{1}));
  auto decoded = decode_envelope(bytes);
  ASSERT_TRUE(std::holds_alternative<EnvelopeError>(decoded));
  const auto& e = std::get<EnvelopeError>(decoded);
  EXPECT_EQ(e.error.code, err::kBadVersion);
  ASSERT_TRUE(e.partial_header.has_value());
  EXPECT_EQ(e.partial_header->agent_id, "box1");
  EXPECT_EQ(e.partial_header->msg_id, 5u);
}

TEST(Codec, UnknownTypeIsReported) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_map(5);
  pk.pack(std::string("version"));
  pk.pack(kProtocolVersion);
  pk.pack(std::string("type"));
  pk.pack(std::string("teleport"));
  pk.pack(std::string("msg_id"));
  pk.pack(1);
  pk.pack(std::string("ts_ms"));
  pk.pack(1);
  pk.pack(std::string("body"));
  pk.pack_map(0);
  EXPECT_EQ(envelope_error(std::string_view(buf.data(), buf.size())).code, err::kUnknownType);
}

TEST(Codec, OutOfRangeFieldNamesItsPath) {
  HparamRequest req{"r1", sample_context()};
  req.context.source.devices[1].free_nodes = 999999;
  auto decoded = decode_envelope(encode(header(), req));
  auto out = decode_body<HparamRequest>(std::get<Envelope>(decoded));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, err::kBadField);
  EXPECT_NE(out.error().message.find("body.context.source.devices[1].free_nodes"),
            std::string::npos)
      << out.error().message;
}

TEST(Codec, WrongTypesAndMissingFieldsAreReported) {
  // seq as a string
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_map(1);
  pk.pack(std::string("seq"));
  pk.pack(std::string("nine"));
  Header h = header();
  h.type = MsgType::heartbeat_ack;
  auto env =
      std::get<Envelope>(decode_envelope(encode_raw(h, std::string(buf.data(), buf.size()))));
  auto r = decode_body<HeartbeatAck>(env);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("must be an integer"), std::string::npos);

  h.type = MsgType::welcome;
  auto env2 = std::get<Envelope>(decode_envelope(encode_raw(h, pack_struct(HeartbeatAck{3}))));
  auto w = decode_body<Welcome>(env2);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.error().message.find("is missing"), std::string::npos);
}

TEST(Codec, CrossFieldRulesAreChecked) {
  HparamRequest req{"r1", sample_context()};
  req.context.job.tasks[0].rows[1].device = "npu7";  // not in the Source matrix
  auto env = std::get<Envelope>(decode_envelope(encode(header(), req)));
  auto out = decode_body<HparamRequest>(env);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, err::kInvalid);

  HparamReply rep{"r1", {3, 16, 4, Loss::focal, 1}, "cold-start", 0, false, ""};  // even kernel
  auto env2 = std::get<Envelope>(decode_envelope(encode(header(), rep)));
  EXPECT_FALSE(decode_body<HparamReply>(env2).ok());
}

TEST(Codec, TrailingBytesAndTruncationAreMalformed) {
  auto bytes = encode(header(), HeartbeatAck{1});
  EXPECT_EQ(envelope_error(bytes + "x").code, err::kMalformed);
  EXPECT_EQ(envelope_error(bytes.substr(0, bytes.size() - 1)).code, err::kMalformed);
  EXPECT_EQ(envelope_error("").code, err::kMalformed);
}

TEST(Codec, BodyOfTheWrongTypeIsUnexpected) {
  auto env = std::get<Envelope>(decode_envelope(encode(header(), HeartbeatAck{1})));
  EXPECT_EQ(decode_body<Welcome>(env).error().code, err::kUnexpected);
}

TEST(Codec, UnknownFieldsAreTolerated) {
  // Forward compatibility: a newer peer may add fields.
  nlohmann::json j = to_json(HeartbeatAck{4});
  j["future_field"] = {1, 2, 3};
  auto ack = from_json<HeartbeatAck>(j);
  ASSERT_TRUE(ack.ok());
  EXPECT_EQ(ack->seq, 4u);
}

TEST(Codec, JsonRoundTrip) {
  auto j = to_json(sample_trace());
  EXPECT_EQ(j["hparams"]["loss"], "focal");
  auto back = from_json<Trace>(j);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->context.job.tasks[0].rows[0].nodes, 2);
}

TEST(Codec, IdsAreValidated) {
  auto j = to_json(sample_trace());
  j["trace_id"] = "has space";
  EXPECT_FALSE(from_json<Trace>(j).ok());
  j["trace_id"] = std::string(200, 'a');
  EXPECT_FALSE(from_json<Trace>(j).ok());
}

using detail::Packer;

// Raw envelope bytes with chosen fields (fields: key -> a packing function).
std::string raw_envelope(
    const std::vector<std::pair<std::string, std::function<void(Packer&)>>>& f) {
  msgpack::sbuffer buf;
  Packer pk(buf);
  pk.pack_map(static_cast<uint32_t>(f.size()));
  for (const auto& [k, v] : f) {
    pk.pack(k);
    v(pk);
  }
  return std::string(buf.data(), buf.size());
}

TEST(Codec, TextThatIsNotUtf8IsABadFieldWithItsPath) {
  // The two cases of the report: a failed trace's error, a Register's hostname.
  Trace t = sample_trace();
  t.outcome.status = TraceStatus::failed;
  t.outcome.error = "oops";
  std::string bytes = encode(header(), t);
  const auto at = bytes.find("oops");
  ASSERT_NE(at, std::string::npos);
  bytes[at + 3] = '\xff';  // "oop\xff": same length, so the msgpack stays well-formed
  auto env = std::get<Envelope>(decode_envelope(bytes));
  auto out = decode_body<Trace>(env);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, err::kBadField);
  EXPECT_EQ(out.error().message, "body.outcome.error: is not valid UTF-8 (byte 3)");

  Register reg;
  reg.hostname = "boxABC";
  reg.devices = {{"cpu", 4, 1000, "procfs"}};
  reg.power_source = "model";
  bytes = encode(header(), reg);
  bytes.replace(bytes.find("boxABC"), 6, "box\xff\xfe\x8c");
  auto r = decode_body<Register>(std::get<Envelope>(decode_envelope(bytes)));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "body.hostname: is not valid UTF-8 (byte 3)");

  // Free-form maps too (admin arguments), values and keys.
  msgpack::sbuffer buf;
  Packer pk(buf);
  pk.pack_map(2);
  pk.pack(std::string("op"));
  pk.pack(std::string("agents.show"));
  pk.pack(std::string("args"));
  pk.pack_map(1);
  pk.pack(std::string("agent_\xff"));
  pk.pack(1);
  Header h = header();
  h.type = MsgType::admin_request;
  auto a = decode_body<AdminRequest>(
      std::get<Envelope>(decode_envelope(encode_raw(h, std::string(buf.data(), buf.size())))));
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code, err::kBadField);
}

TEST(Codec, WhatThisSideStoredIsRepairedNotRefused) {
  Trace t = sample_trace();
  t.outcome.status = TraceStatus::failed;
  t.outcome.error = "oops";
  std::string bytes = pack_struct(t);
  bytes[bytes.find("oops") + 3] = '\xff';
  auto oh = unpack_bounded(bytes);
  ASSERT_TRUE(oh.ok());
  EXPECT_FALSE(read_struct<Trace>(oh->get()).ok());
  auto repaired = read_struct<Trace>(oh->get(), "", TextMode::repair);
  ASSERT_TRUE(repaired.ok()) << repaired.error().message;
  EXPECT_EQ(repaired->outcome.error, "oop\xEF\xBF\xBD");
  // And the writer never sends bad bytes, whatever a struct holds.
  t.outcome.error = "oop\xff";
  const std::string sent = pack_struct(t);
  EXPECT_EQ(sent.find("oop\xff"), std::string::npos);
  EXPECT_NE(sent.find("oop\xEF\xBF\xBD"), std::string::npos);
}

TEST(Codec, EnvelopeFaultsAreBadFieldsAddressedToTheirMessage) {
  auto version = [](Packer& p) { p.pack(kProtocolVersion); };
  auto type = [](Packer& p) { p.pack(std::string("heartbeat")); };
  auto msg_id = [](Packer& p) { p.pack(41); };
  auto agent = [](Packer& p) { p.pack(std::string("box1")); };
  auto ts = [](Packer& p) { p.pack(1); };
  auto body = [](Packer& p) { p.pack_map(0); };
  struct Case {
    std::string field;
    std::function<void(Packer&)> bad;
    std::string says;
  } cases[] = {
      {"version", [](Packer& p) { p.pack(std::string("1")); }, "version: must be an integer"},
      {"msg_id", [](Packer& p) { p.pack(-3); }, "msg_id: is out of range"},
      {"msg_id", [](Packer& p) { p.pack(std::string("41")); }, "msg_id: must be an integer"},
      {"agent_id", [](Packer& p) { p.pack(12); }, "agent_id: must be a string"},
      {"body", [](Packer& p) { p.pack(std::string("x")); }, "body: must be a map"},
  };
  for (const auto& c : cases) {
    std::vector<std::pair<std::string, std::function<void(Packer&)>>> fields{
        {"version", version}, {"type", type}, {"msg_id", msg_id},
        {"agent_id", agent},  {"ts_ms", ts},  {"body", body}};
    for (auto& [k, v] : fields)
      if (k == c.field) v = c.bad;
    auto d = decode_envelope(raw_envelope(fields));
    ASSERT_TRUE(std::holds_alternative<EnvelopeError>(d)) << c.field;
    const auto& e = std::get<EnvelopeError>(d);
    EXPECT_EQ(e.error.code, err::kBadField) << c.field;
    EXPECT_NE(e.error.message.find(c.says), std::string::npos) << e.error.message;
    ASSERT_TRUE(e.partial_header.has_value()) << c.field;
    EXPECT_EQ(e.partial_header->msg_id, c.field == "msg_id" ? 0u : 41u) << c.field;
    EXPECT_EQ(e.partial_header->agent_id, c.field == "agent_id" ? "" : "box1") << c.field;
  }
  // No body at all.
  auto d = decode_envelope(raw_envelope({{"version", version},
                                         {"type", type},
                                         {"msg_id", msg_id},
                                         {"agent_id", agent},
                                         {"ts_ms", ts}}));
  EXPECT_EQ(std::get<EnvelopeError>(d).error.code, err::kBadField);
  // An unknown type is echoed escaped: the reply stays UTF-8.
  auto u =
      decode_envelope(raw_envelope({{"version", version},
                                    {"type", [](Packer& p) { p.pack(std::string("\x8c\xff")); }},
                                    {"msg_id", msg_id},
                                    {"ts_ms", ts},
                                    {"body", body}}));
  EXPECT_EQ(std::get<EnvelopeError>(u).error.code, err::kBadField);  // not UTF-8: refused as such
  auto u2 =
      decode_envelope(raw_envelope({{"version", version},
                                    {"type", [](Packer& p) { p.pack(std::string("a\x1b[2J")); }},
                                    {"msg_id", msg_id},
                                    {"ts_ms", ts},
                                    {"body", body}}));
  EXPECT_EQ(std::get<EnvelopeError>(u2).error.message, "unknown message type 'a\\x1b[2J'");
}

TEST(Codec, RegisterHeartbeatAndTraceAreCheckedLikeAContext) {
  Register reg;
  reg.hostname = "h";
  reg.power_source = "model";
  reg.devices = {{"npu0", 2, 1000, "npu-smi"}, {"cpu", 4, 1000, "procfs"}};
  auto r = decode_body<Register>(std::get<Envelope>(decode_envelope(encode(header(), reg))));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, err::kInvalid);
  reg.devices = {{"cpu", 4, 1000, "procfs"}, {"cpu", 4, 1000, "procfs"}};
  EXPECT_FALSE(
      decode_body<Register>(std::get<Envelope>(decode_envelope(encode(header(), reg)))).ok());

  Heartbeat hb{1, sample_context().source, 0, 0, "busy", std::nullopt};
  auto b = decode_body<Heartbeat>(std::get<Envelope>(decode_envelope(encode(header(), hb))));
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code, err::kBadField);
  EXPECT_NE(b.error().message.find("body.activity"), std::string::npos);

  Trace t = sample_trace();  // tightest T of the sample context
  t.outcome.latency_ms = *t.context.min_latency_req_ms() * 1.5;
  t.outcome.met_latency = true;
  auto tr = decode_body<Trace>(std::get<Envelope>(decode_envelope(encode(header(), t))));
  ASSERT_FALSE(tr.ok());
  EXPECT_EQ(tr.error().code, err::kInvalid);
  t.outcome.met_latency = false;  // the same numbers, honestly reported
  EXPECT_TRUE(decode_body<Trace>(std::get<Envelope>(decode_envelope(encode(header(), t)))).ok());
}

}  // namespace
}  // namespace edgenas::proto
