#include "coordinator/predictor/pool.hpp"

#include <filesystem>
#include <fstream>

#include "common/protocol/codec.hpp"

namespace edgenas::predictor {

Status write_trace_pool(const std::string& path, const std::vector<Trace>& traces) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return Error{"io", "cannot write " + tmp};
    for (const auto& t : traces) out << proto::to_json(t).dump() << "\n";
    out.flush();
    if (!out) return Error{"io", "cannot write " + tmp};
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Error{"io", "cannot rename " + tmp + ": " + ec.message()};
  return ok_status();
}

Expected<std::vector<Trace>> read_trace_pool(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{"not_found", "cannot read the trace pool " + path};
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
