#pragma once
// Small helpers the evaluations share: a parallel loop over indices and a seed mixer.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace edgenas::sim {

// fn(i) for every i in [0, n), on `threads` threads (each takes the next index).
inline void parallel_for(int n, int threads, const std::function<void(int)>& fn) {
  std::atomic<int> next{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < std::max(1, threads); ++t)
    pool.emplace_back([&] {
      for (int i = next++; i < n; i = next++) fn(i);
    });
  for (auto& th : pool) th.join();
}

// A seed derived from two numbers (every simulated search gets its own, reproducibly).
inline uint64_t mix(uint64_t a, uint64_t b) {
  return (a * 0x9E3779B97F4A7C15ull) ^ (b + 0x7F4A7C15ull);
}

}  // namespace edgenas::sim
