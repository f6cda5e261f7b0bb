#pragma once
// A coordinator core on a fresh store in the temp directory, time from a ManualClock: what the
// fuzz targets of the coordinator's admin views and console API feed their inputs to.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "coordinator/core/cold_start_policy.hpp"
#include "coordinator/core/coordinator_core.hpp"

namespace edgenas::fuzz {

struct CoordinatorWorld {
  ManualClock clock;
  coordinator::ColdStartPolicy policy;
  std::unique_ptr<coordinator::TraceStore> store;
  std::unique_ptr<coordinator::CoordinatorCore> core;
  explicit CoordinatorWorld(const std::string& name) {
    const auto path = std::filesystem::temp_directory_path() /
                      ("fuzz-" + name + "-" + std::to_string(::getpid()) + ".db");
    std::filesystem::remove(path);
    store = std::move(*coordinator::TraceStore::open(path.string()));
    core = std::make_unique<coordinator::CoordinatorCore>(clock, *store, policy,
                                                          coordinator::CoreConfig{});
    if (!core->start()) std::abort();
  }
};

}  // namespace edgenas::fuzz
