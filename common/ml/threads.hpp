#pragma once
// Threads of the numeric libraries under libtorch (no libtorch in this header).
//
// Debian's libtorch calls the system BLAS (the libblas.so.3 alternative). edgenas trains
// several networks side by side on threads of its own (the search's workers, the predictor's
// NAS), so that BLAS must be safe to call from concurrent threads: OpenBLAS's serial build
// (libopenblas0-serial) is not — two threads multiplying matrices of different shapes get
// each other's results now and then (tests/unit/ml: BlasIsSafeAcrossThreads) — and its
// threaded build (libopenblas0-pthread, what deploy/install-deps.sh installs) is. Its own
// threads are pinned to one: our workers and torch's intra-op threads are the parallelism.
#include <string>

namespace edgenas::ml {

// libtorch's intra-op threads for the calling thread (OpenMP keeps the count per thread; a new
// thread starts with one per core). The first call also pins the BLAS to one thread and warns
// once on stderr when the BLAS is not safe across threads.
void set_threads(int n);

// The BLAS's own description ("OpenBLAS 0.3.21 ... MAX_THREADS=64"), empty when it is not
// OpenBLAS.
std::string blas_config();
// False for a BLAS known to race across threads (OpenBLAS built SINGLE_THREADED).
bool blas_thread_safe();

}  // namespace edgenas::ml
