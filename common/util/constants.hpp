#pragma once
// Timeouts and limits in one place, with the rules that tie them together.
#include <cstddef>
#include <cstdint>

namespace edgenas::limits {

// --- Liveness -------------------------------------------------------------------------------
// The coordinator assigns the heartbeat interval in Welcome. An agent is dead after
// kDeadAfterMissedHeartbeats intervals without any message from it.
inline constexpr int64_t kDefaultHeartbeatIntervalMs = 5'000;
inline constexpr int kDeadAfterMissedHeartbeats = 3;
// The agent declares the link lost after the same number of intervals without any reply,
// then reconnects with exponential backoff between these bounds (plus up to 20% jitter).
inline constexpr int64_t kReconnectBackoffMinMs = 250;
inline constexpr int64_t kReconnectBackoffMaxMs = 15'000;
// Unacked traces are resent after this long (and at once after a (re)registration).
// Rule: larger than a group commit plus a round trip, so a healthy link never resends.
inline constexpr int64_t kTraceResendAfterMs = 10'000;
// A HparamRequest with no reply is retried after this long.
inline constexpr int64_t kHparamRequestTimeoutMs = 5'000;
// The coordinator answers a resent request_id with its first reply for this long (bounded in
// entries: at 10 000 agents about one request each).
inline constexpr int64_t kReplyMemoryMs = 5 * 60'000;
inline constexpr std::size_t kReplyMemoryEntries = 20'000;

// --- Wire limits (untrusted input) ------------------------------------------------------------
// ZMQ_MAXMSGSIZE on every socket that reads from the network: a peer sending more is
// disconnected by libzmq before the bytes reach a decoder.
inline constexpr int64_t kMaxMessageBytes = 1 << 20;  // 1 MiB: a message's payload, at most
// ZMQ_MAXMSGSIZE counts what arrives on the wire, which with CURVE is the payload plus 33 bytes
// of box (command name, nonce, MAC, flags). Sockets allow this much more, so the advertised
// payload limit is the one that holds, and a payload just over it gets a `too_large` reply.
inline constexpr int64_t kTransportOverheadBytes = 64;
inline constexpr int64_t kMaxWireMessageBytes = kMaxMessageBytes + kTransportOverheadBytes;
// msgpack::unpack_limit: a declared array/map count is checked before any allocation.
inline constexpr std::size_t kMaxArrayItems = 4096;
inline constexpr std::size_t kMaxMapPairs = 256;
inline constexpr std::size_t kMaxStringBytes = 64 * 1024;
inline constexpr std::size_t kMaxBinBytes = 256 * 1024;
inline constexpr std::size_t kMaxExtBytes = 1024;
inline constexpr std::size_t kMaxDepth = 16;

// --- Data model bounds (validated on decode) ------------------------------------------------
inline constexpr std::size_t kMaxDevices = 16;  // cpu + up to 15 accelerators
inline constexpr std::size_t kMaxQueuedTasks = 1024;
inline constexpr std::size_t kMaxProgressPoints = 64;   // a trace's search progress
inline constexpr std::size_t kMaxLatencySamples = 512;  // measured candidates in one trace
inline constexpr std::size_t kMaxParetoPoints = 64;     // a trace's accuracy/latency front
inline constexpr int kMaxNodesPerDevice = 4096;
inline constexpr int64_t kMaxMemoryMb = 16 * 1024 * 1024;  // 16 TB
inline constexpr double kMaxPowerW = 100'000;
inline constexpr double kMaxLatencyMs = 3'600'000;  // one hour
inline constexpr double kMaxRuntimeMs = 7 * 24 * 3'600'000.0;
inline constexpr double kMaxEnergyJ = 1e9;
inline constexpr std::size_t kMaxIdBytes = 128;

// --- Coordinator ----------------------------------------------------------------------------
// Group commit: traces received in one poll round (up to this many messages) share one
// transaction; their Acks go out after it commits.
inline constexpr std::size_t kMaxMessagesPerRound = 2048;
// Heartbeat state (last_seen, last Source) is written back to the store this often;
// registrations, queue reports and deaths are written with the next commit. At most
// kMaxAgentWritesPerRound rows go into one commit so a write-back of 10,000 agents is spread
// over rounds instead of stalling one.
inline constexpr int64_t kRegistryFlushIntervalMs = 10'000;
inline constexpr std::size_t kMaxAgentWritesPerRound = 500;
inline constexpr std::size_t kAdminMaxRows = 100'000;

// --- Agent ----------------------------------------------------------------------------------
inline constexpr std::size_t kDefaultOutboxMaxTraces = 10'000;
inline constexpr int64_t kProbeWindowMs = 5'000;

}  // namespace edgenas::limits
