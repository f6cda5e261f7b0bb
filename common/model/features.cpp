#include "common/model/features.hpp"
#include "common/util/errors.hpp"

#include <algorithm>
#include <cmath>

namespace edgenas {
namespace {

// Which slot a device belongs to: 0 cpu, 1 npu*, 2 gpu*, -1 none.
int slot_of(const std::string& device) {
  if (device == "cpu") return 0;
  if (device.rfind("npu", 0) == 0) return 1;
  if (device.rfind("gpu", 0) == 0) return 2;
  return -1;
}

float lg(double v) {
  return static_cast<float>(std::log1p(std::max(0.0, v)));
}

constexpr int kPerSlot = 12;  // present, nodes, memory, tasks, 3×runtime, 3×energy, 2×nodes

}  // namespace

const std::vector<std::string>& feature_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const char* s : kFeatureSlots) {
      const std::string p = s;
      for (const char* f :
           {"present", "free_nodes", "free_memory_mb", "tasks", "runtime_sum", "runtime_max",
            "runtime_mean", "energy_sum", "energy_max", "energy_mean", "nodes_sum", "nodes_max"})
        n.push_back(p + "." + f);
    }
    for (const char* f :
         {"t_min_log10", "t_mean_log10", "queue_length", "queue_empty", "power_w", "power_modelled",
          "dataset_present", "classes", "image_pixels", "channels", "samples"})
      n.push_back(f);
    return n;
  }();
  return names;
}

std::vector<float> featurize(const Context& ctx) {
  std::vector<float> f(feature_names().size(), 0.0f);
  for (const auto& d : ctx.source.devices) {
    const int s = slot_of(d.device);
    if (s < 0) continue;
    float* p = &f[static_cast<std::size_t>(s) * kPerSlot];
    p[0] = 1;
    // Summed over the devices of a kind (npu0 + npu1), in linear units, then logged below.
    p[1] += static_cast<float>(d.free_nodes);
    p[2] += static_cast<float>(d.free_memory_mb);
  }
  for (std::size_t s = 0; s < kFeatureSlots.size(); ++s) {
    float* p = &f[s * kPerSlot];
    struct Agg {
      double n = 0, rt_sum = 0, rt_max = 0, e_sum = 0, e_max = 0, nodes_sum = 0, nodes_max = 0;
    } a;
    for (const auto& t : ctx.job.tasks) {
      for (const auto& r : t.rows) {
        if (slot_of(r.device) != static_cast<int>(s)) continue;
        a.n += 1;
        a.rt_sum += r.runtime_ms;
        a.rt_max = std::max(a.rt_max, r.runtime_ms);
        a.e_sum += r.energy_j;
        a.e_max = std::max(a.e_max, r.energy_j);
        a.nodes_sum += r.nodes;
        a.nodes_max = std::max(a.nodes_max, static_cast<double>(r.nodes));
      }
    }
    p[1] = lg(p[1]);
    p[2] = lg(p[2]);
    p[3] = lg(a.n);
    p[4] = lg(a.rt_sum);
    p[5] = lg(a.rt_max);
    p[6] = lg(a.n > 0 ? a.rt_sum / a.n : 0);
    p[7] = lg(a.e_sum);
    p[8] = lg(a.e_max);
    p[9] = lg(a.n > 0 ? a.e_sum / a.n : 0);
    p[10] = lg(a.nodes_sum);
    p[11] = lg(a.nodes_max);
  }
  std::size_t i = kFeatureSlots.size() * kPerSlot;
  double t_min = kNoTaskLatencyReqMs, t_sum = 0;
  for (const auto& t : ctx.job.tasks) {
    t_min = std::min(t_min, t.latency_req_ms);
    t_sum += t.latency_req_ms;
  }
  const double n = static_cast<double>(ctx.job.tasks.size());
  if (ctx.job.tasks.empty()) t_min = kNoTaskLatencyReqMs;
  f[i++] = static_cast<float>(std::log10(std::max(1e-3, t_min)));
  f[i++] = static_cast<float>(std::log10(std::max(1e-3, n > 0 ? t_sum / n : kNoTaskLatencyReqMs)));
  f[i++] = lg(n);
  f[i++] = ctx.job.tasks.empty() ? 1.0f : 0.0f;
  f[i++] = lg(ctx.source.power_w);
  f[i++] = ctx.source.power_modelled ? 1.0f : 0.0f;
  if (ctx.dataset) {
    f[i++] = 1;
    f[i++] = lg(ctx.dataset->classes);
    f[i++] = lg(static_cast<double>(ctx.dataset->image_h) * ctx.dataset->image_w);
    f[i++] = static_cast<float>(ctx.dataset->channels);
    f[i++] = lg(static_cast<double>(ctx.dataset->samples));
  }
  return f;
}

FeatureNorm FeatureNorm::fit(const std::vector<std::vector<float>>& rows) {
  FeatureNorm n;
  const std::size_t d = feature_names().size();
  n.mean.assign(d, 0.0f);
  n.scale.assign(d, 1.0f);
  if (rows.empty()) return n;
  std::vector<double> sum(d, 0), sq(d, 0);
  for (const auto& r : rows) {
    for (std::size_t j = 0; j < d && j < r.size(); ++j) {
      sum[j] += r[j];
      sq[j] += static_cast<double>(r[j]) * r[j];
    }
  }
  const double m = static_cast<double>(rows.size());
  for (std::size_t j = 0; j < d; ++j) {
    const double mu = sum[j] / m, var = std::max(0.0, sq[j] / m - mu * mu);
    n.mean[j] = static_cast<float>(mu);
    n.scale[j] = var > 1e-12 ? static_cast<float>(std::sqrt(var)) : 1.0f;
  }
  return n;
}

Expected<std::vector<float>> FeatureNorm::apply(const std::vector<float>& x) const {
  if (version != kFeatureVersion)
    return Error{"feature_version", "the model expects feature spec v" + std::to_string(version) +
                                        ", this build makes v" + std::to_string(kFeatureVersion)};
  if (x.size() != mean.size())
    return Error{"feature_version", "feature vector has " + std::to_string(x.size()) +
                                        " values, the model expects " +
                                        std::to_string(mean.size())};
  std::vector<float> out(x.size());
  for (std::size_t j = 0; j < x.size(); ++j) out[j] = (x[j] - mean[j]) / scale[j];
  return out;
}

nlohmann::json FeatureNorm::to_json() const {
  return {{"version", version}, {"names", feature_names()}, {"mean", mean}, {"scale", scale}};
}

Expected<FeatureNorm> FeatureNorm::from_json(const nlohmann::json& j) {
  try {
    FeatureNorm n;
    n.version = j.at("version").get<int>();
    n.mean = j.at("mean").get<std::vector<float>>();
    n.scale = j.at("scale").get<std::vector<float>>();
    if (n.mean.size() != n.scale.size())
      return Error{errc::kBadModel, "feature norm: mean and scale differ in length"};
    for (float s : n.scale)
      if (!(s > 0) || !std::isfinite(s)) return Error{errc::kBadModel, "feature norm: bad scale"};
    return n;
  } catch (const std::exception& e) {
    return Error{errc::kBadModel, std::string("feature norm: ") + e.what()};
  }
}

}  // namespace edgenas
