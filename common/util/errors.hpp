#pragma once
// The codes of Errors that stay inside a process (a CLI's exit status, a daemon's decision to
// stop); the codes that cross the wire are proto::err (common/protocol/schema.hpp). Code that
// makes or compares one of these uses the name, never the literal.
namespace edgenas::errc {

inline constexpr const char* kUsage = "usage";             // a command line or an input file
inline constexpr const char* kBadConfig = "bad_config";    // a config file's or flag's value
inline constexpr const char* kIo = "io";                   // a file could not be written or read
inline constexpr const char* kStore = "store";             // the SQLite store
inline constexpr const char* kNotFound = "not_found";      // a file, a version, an agent
inline constexpr const char* kBadProfile = "bad_profile";  // a device profile (TOML)
inline constexpr const char* kBadScenario = "bad_scenario";
inline constexpr const char* kBadTable = "bad_table";  // the surrogate's table of trainings
inline constexpr const char* kBadModel = "bad_model";  // a model or predictor file
inline constexpr const char* kFailed = "failed";       // a step that ran and did not succeed

}  // namespace edgenas::errc
