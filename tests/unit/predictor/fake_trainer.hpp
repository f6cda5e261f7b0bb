#pragma once
// A ChildLauncher that starts nothing: the tests of the services that train in a child write
// the child's output themselves and set its exit.
#include <optional>
#include <string>
#include <vector>

#include "common/util/process.hpp"

namespace edgenas::predictor {

class FakeTrainer final : public ChildLauncher {
 public:
  Expected<int> spawn(const ChildSpec& spec) override {
    specs.push_back(spec);
    return 42 + static_cast<int>(specs.size());
  }
  std::optional<int> adopt(int, const std::string&) override { return std::nullopt; }
  void signal(int, int sig) override { signals.push_back(sig); }
  std::optional<ChildExit> poll(int) override { return exit; }
  std::vector<std::string> take_lines(int) override { return {}; }
  std::string limits_applied(int) const override { return ""; }
  std::vector<ChildSpec> specs;
  std::vector<int> signals;
  std::optional<ChildExit> exit;
};

}  // namespace edgenas::predictor
