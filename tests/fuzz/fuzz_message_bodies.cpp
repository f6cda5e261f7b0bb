// Every message decoder directly: the first byte picks the message type, the rest is the body.
#include "common/protocol/codec.hpp"

using namespace edgenas;
using namespace edgenas::proto;

namespace {
template <class T>
void decode(std::string_view bytes) {
  auto oh = unpack_bounded(bytes);
  if (!oh) return;
  auto v = read_struct<T>(oh->get(), "body");
  if (v) (void)pack_struct(*v);  // what decodes must encode again
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 14) {
    case 0:
      decode<Register>(body);
      break;
    case 1:
      decode<Reregister>(body);
      break;
    case 2:
      decode<Welcome>(body);
      break;
    case 3:
      decode<Heartbeat>(body);
      break;
    case 4:
      decode<HeartbeatAck>(body);
      break;
    case 5:
      decode<QueueReport>(body);
      break;
    case 6:
      decode<HparamRequest>(body);
      break;
    case 7:
      decode<HparamReply>(body);
      break;
    case 8:
      decode<Trace>(body);
      break;
    case 9:
      decode<Ack>(body);
      break;
    case 10:
      decode<Command>(body);
      break;
    case 11:
      decode<ErrorMsg>(body);
      break;
    case 12:
      decode<AdminRequest>(body);
      break;
    case 13:
      decode<AdminResponse>(body);
      break;
  }
  return 0;
}
