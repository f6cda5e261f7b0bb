#pragma once
// Expected<T>: a value or an Error. The pure cores return these instead of throwing;
// exceptions from libraries are caught at the adapter boundary and turned into Errors.
#include <string>
#include <utility>
#include <variant>

namespace edgenas {

struct Error {
  std::string code;     // stable, machine-readable (e.g. "malformed", "out_of_range")
  std::string message;  // for humans: says what was wrong and where
};

template <class T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : v_(std::move(value)) {}
  Expected(Error error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// For operations that succeed with no value.
struct Ok {};
using Status = Expected<Ok>;
inline Status ok_status() {
  return Ok{};
}

}  // namespace edgenas
