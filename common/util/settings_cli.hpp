#pragma once
// The command-line side of common/util/settings.hpp: every setting with a flag becomes a CLI11
// option whose help says what the setting sets, its type, its default and its key in the
// config file. After parsing, given() lists the flags used, for config::apply_flags once the
// file has been read (flags win over the file, the file over the defaults).
#include <CLI/CLI.hpp>

#include <deque>

#include "common/util/settings.hpp"

namespace edgenas::config {

template <class Cfg>
class SettingFlags {
 public:
  SettingFlags(CLI::App& app, const Settings<Cfg>& all, const Cfg& defaults) {
    for (const auto& s : all) {
      if (s.flag.empty()) continue;
      const std::string help = s.help + " (" + s.type + "; default " + s.show(defaults) +
                               "; file: [" + s.section + "] " + s.key + ")";
      texts_.emplace_back();
      CLI::Option* o =
          s.is_switch ? app.add_flag(s.flag, help) : app.add_option(s.flag, texts_.back(), help);
      options_.push_back({s.flag, o, &texts_.back()});
    }
  }
  std::vector<std::pair<std::string, std::string>> given() const {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& o : options_)
      if (o.option->count() > 0) out.emplace_back(o.flag, *o.text);
    return out;
  }

 private:
  struct Flag {
    std::string flag;
    CLI::Option* option;
    const std::string* text;
  };
  std::deque<std::string> texts_;  // stable addresses for CLI11
  std::vector<Flag> options_;
};

}  // namespace edgenas::config
