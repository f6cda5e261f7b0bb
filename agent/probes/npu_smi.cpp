#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <sstream>

#include "agent/probes/probes.hpp"

namespace edgenas::agent {
namespace {

std::vector<std::string> cells(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : line) {
    if (c == '|') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  // "| a | b | c |" splits into "", a, b, c, "": keep the inner cells.
  if (!out.empty()) out.erase(out.begin());
  return out;
}

std::vector<std::string> words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

// "1074 / 21534" pairs (also "35879/ 65536") in order of appearance.
std::vector<std::pair<int64_t, int64_t>> usage_pairs(const std::string& s) {
  std::vector<std::pair<int64_t, int64_t>> out;
  std::string t;
  for (char c : s) t += c == '/' ? std::string(" / ") : std::string(1, c);
  auto w = words(t);
  for (size_t i = 1; i + 1 < w.size(); ++i) {
    if (w[i] != "/") continue;
    try {
      out.emplace_back(std::stoll(w[i - 1]), std::stoll(w[i + 1]));
    } catch (const std::exception&) {  // not numbers, or out of range: not a usage pair
    }
  }
  return out;
}

// A small non-negative integer (NPU ids are single or double digits).
std::optional<int> small_int(const std::string& s) {
  if (s.empty() || s.size() > 4 || s.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  return std::stoi(s);
}

}  // namespace

Expected<std::vector<NpuSmiPlugin::Chip>> NpuSmiPlugin::parse(const std::string& text) {
  std::vector<std::string> rows;
  std::istringstream in(text);
  std::string line;
  bool in_device_table = false;
  while (std::getline(in, line)) {
    if (line.find("Health") != std::string::npos && line.find("NPU") != std::string::npos) {
      in_device_table = true;
      continue;
    }
    // The process table that may follow starts with its own header; stop there.
    if (line.find("Process id") != std::string::npos) break;
    if (!in_device_table || line.empty() || line[0] != '|') continue;
    if (line.find("Chip") != std::string::npos && line.find("Bus-Id") != std::string::npos)
      continue;
    rows.push_back(line);
  }
  std::vector<Chip> chips;
  for (size_t i = 0; i + 1 < rows.size(); i += 2) {
    auto a = cells(rows[i]), b = cells(rows[i + 1]);
    if (a.size() < 3 || b.size() < 3)
      return Error{"probe", "npu-smi: unexpected row layout: " + rows[i]};
    auto head = words(a[0]);
    auto id = head.empty() ? std::nullopt : small_int(head[0]);
    if (head.size() < 2 || !id || *id > 99)
      return Error{"probe", "npu-smi: no NPU id in: " + rows[i]};
    Chip c;
    c.npu_id = *id;
    c.name = head[1];
    auto health = words(a[1]);
    c.healthy = !health.empty() && health[0] == "OK";
    auto util = words(b[2]);
    if (!util.empty() && util[0] != "NA") {
      try {
        c.aicore_pct = std::stod(util[0]);
      } catch (const std::exception&) {
        return Error{"probe", "npu-smi: unreadable AICore(%) in: " + rows[i + 1]};
      }
    }
    // Memory-Usage, then HBM-Usage when the chip has HBM: use the pair with the larger total.
    for (auto [used, total] : usage_pairs(b[2])) {
      if (total > c.memory_total_mb) {
        c.memory_used_mb = used;
        c.memory_total_mb = total;
      }
    }
    chips.push_back(c);
  }
  if (chips.empty()) return Error{"probe", "npu-smi: no NPU rows found in its output"};
  return chips;
}

NpuSmiPlugin::Runner NpuSmiPlugin::command_runner(std::string command) {
  return [command]() -> Expected<std::string> {
    FILE* p = popen((command + " 2>&1").c_str(), "r");
    if (!p) return Error{"probe", "cannot run '" + command + "'"};
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0 && out.size() < (1 << 20)) out.append(buf, n);
    int rc = pclose(p);
    if (rc != 0)
      return Error{"probe", "'" + command + "' failed (status " + std::to_string(rc) +
                                "): " + out.substr(0, 200)};
    return out;
  };
}

std::vector<DeviceInfo> NpuSmiPlugin::devices() {
  if (devices_.empty()) {
    auto text = run_();
    if (!text) return {};
    auto chips = parse(*text);
    if (!chips) return {};
    for (const auto& c : *chips) {
      devices_.push_back(
          {"npu" + std::to_string(c.npu_id), cores_, c.memory_total_mb, "npu-smi:" + c.name});
    }
  }
  return devices_;
}

Expected<std::vector<DeviceSource>> NpuSmiPlugin::sample() {
  auto text = run_();
  if (!text) return text.error();
  auto chips = parse(*text);
  if (!chips) return chips.error();
  std::vector<DeviceSource> out;
  for (const auto& c : *chips) {
    DeviceSource d;
    d.device = "npu" + std::to_string(c.npu_id);
    d.free_nodes = c.healthy ? static_cast<int>(std::lround(
                                   cores_ * (1.0 - std::clamp(c.aicore_pct, 0.0, 100.0) / 100.0)))
                             : 0;
    d.free_memory_mb = std::max<int64_t>(0, c.memory_total_mb - c.memory_used_mb);
    d.unhealthy = !c.healthy;
    out.push_back(d);
  }
  return out;
}

}  // namespace edgenas::agent
