#pragma once
// An evaluation's report: DIR/STEM.json (every number) and DIR/STEM.md (the tables), the
// directory made when missing.
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "common/util/errors.hpp"
#include "common/util/expected.hpp"

namespace edgenas::sim {

inline Status write_report_files(const std::string& dir, const std::string& stem,
                                 const nlohmann::json& numbers, const std::string& markdown) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  std::ofstream(dir + "/" + stem + ".json") << numbers.dump(1) << "\n";
  std::ofstream md(dir + "/" + stem + ".md");
  md << markdown;
  if (!md) return Error{errc::kIo, dir + "/" + stem + ".md: cannot write"};
  return ok_status();
}

}  // namespace edgenas::sim
