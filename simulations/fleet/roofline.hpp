#pragma once
// A device truth for the simulated meter world that is not a FLOPs line (issue 19, item 5): a
// per-layer roofline. Each live layer costs a fixed dispatch time plus the larger of its
// arithmetic at the device's sustained rate and its memory traffic at the device's sustained
// bandwidth; the inference adds a fixed cost (the call, the input and output copies):
//
//   ms = fixed + Σ_live layers [ per_layer + max(FLOPs / rate, bytes / bandwidth) ]
//
// The simulator uses it as the latency a box would measure on a device; the fleet's learned
// models (common/search/learned_latency) never see this form. Its parameters are in the device
// profiles (`roofline = {...}`); `fit_roofline` fits them to measured latencies (the Raspberry
// Pi 4's are fitted on the NAS-Bench-201 table's raspi4 column). Torch-free.
#include <vector>

#include "common/model/profile.hpp"
#include "common/search/layers.hpp"
#include "common/util/expected.hpp"

namespace edgenas::sim {

using Roofline = DeviceProfile::Roofline;

double roofline_ms(const Roofline& r, const search::LayerList& layers);

// Least squares on relative error (the fastest tenth weighing no more than its slowest member,
// as the learned models do), over a grid of ridge points (FLOPs per byte) with the three
// linear parameters non-negative. Needs measurements of at least four networks.
Expected<Roofline> fit_roofline(const std::vector<search::LayerList>& networks,
                                const std::vector<double>& ms);

}  // namespace edgenas::sim
