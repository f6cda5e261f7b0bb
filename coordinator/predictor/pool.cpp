#include "coordinator/predictor/pool.hpp"

#include <filesystem>
#include <fstream>

#include "common/protocol/codec.hpp"
#include "common/util/errors.hpp"
#include "common/util/files.hpp"

namespace edgenas::predictor {

Status write_trace_pool(const std::string& path, const std::vector<Trace>& traces) {
  std::string lines;
  for (const auto& t : traces) lines += proto::to_json(t).dump() + "\n";
  return files::write_atomic(path, lines);
}

Expected<std::vector<Trace>> read_trace_pool(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{errc::kNotFound, "cannot read the trace pool " + path};
  std::vector<Trace> traces;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    const std::string where = path + ":" + std::to_string(n);
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) return Error{"bad_pool", where + ": not JSON"};
    auto t = proto::from_json<Trace>(j, where);
    if (!t) return Error{"bad_pool", t.error().message};
    traces.push_back(std::move(*t));
  }
  return traces;
}

}  // namespace edgenas::predictor
