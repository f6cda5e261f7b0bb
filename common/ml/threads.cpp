#include "common/ml/threads.hpp"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdio>
#include <mutex>

// OpenBLAS's entry points, when the BLAS under libtorch is OpenBLAS (weak: null otherwise).
extern "C" {
void openblas_set_num_threads(int) __attribute__((weak));
char* openblas_get_config() __attribute__((weak));
}

namespace edgenas::ml {

std::string blas_config() {
  if (openblas_get_config == nullptr) return {};
  const char* c = openblas_get_config();
  return c ? c : "";
}

bool blas_thread_safe() {
  return blas_config().find("SINGLE_THREADED") == std::string::npos;
}

void set_threads(int n) {
  static std::once_flag once;
  std::call_once(once, [] {
    if (openblas_set_num_threads != nullptr) openblas_set_num_threads(1);
    if (!blas_thread_safe()) {
      std::fprintf(stderr,
                   "edgenas: warning: the system BLAS is OpenBLAS's serial build (%s), which "
                   "returns wrong results when trainings run side by side; install "
                   "libopenblas0-pthread (deploy/install-deps.sh)\n",
                   blas_config().c_str());
    }
  });
  at::set_num_threads(std::max(1, n));
}

}  // namespace edgenas::ml
