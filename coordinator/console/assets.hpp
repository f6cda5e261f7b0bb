#pragma once
// The web console's files (HTML, the esbuild bundle, CSS), embedded in the coordinator at build
// time (coordinator/console/CMakeLists.txt): a package or `make demo` serves them with nothing
// to install and nothing loaded from elsewhere.
#include <span>
#include <string_view>

namespace edgenas::console {

struct Asset {
  std::string_view path;  // as requested: "/index.html", "/app.js", ...
  std::string_view content_type;
  std::string_view body;
};

std::span<const Asset> assets();

}  // namespace edgenas::console
