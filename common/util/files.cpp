#include "common/util/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/util/errors.hpp"
#include "common/util/utf8.hpp"

namespace edgenas::files {
namespace fs = std::filesystem;

namespace {

Error io_error(const std::string& what, const std::string& path) {
  return Error{errc::kIo, "cannot " + what + " " + path + ": " + std::strerror(errno)};
}

// Writes all of `bytes` to `fd` and syncs it; false with errno set when either fails.
bool write_all_and_sync(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return ::fsync(fd) == 0;
}

}  // namespace

Status write_atomic(const std::string& path, std::string_view bytes,
                    std::optional<fs::perms> perms) {
  const std::string tmp = path + ".tmp";
  const auto mode = static_cast<mode_t>(perms ? *perms : fs::perms(0644));
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return io_error("write", tmp);
  // open() leaves an existing file's mode alone and applies the umask: set it exactly.
  const bool ok = (!perms || ::fchmod(fd, mode) == 0) && write_all_and_sync(fd, bytes);
  const int saved = errno;
  ::close(fd);
  if (!ok) {
    errno = saved;
    return io_error("write", tmp);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) return io_error("rename " + tmp + " to", path);
  return ok_status();
}

Status write_json_atomic(const std::string& path, const nlohmann::json& j) {
  return write_atomic(path, utf8::json_text(j, 2) + "\n");
}

Expected<nlohmann::json> read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{errc::kNotFound, "cannot read " + path};
  try {
    return nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    return Error{"bad_json", path + " is not JSON: " + e.what()};
  }
}

Status copy_atomic(const std::string& from, const std::string& to) {
  std::ifstream in(from, std::ios::binary);
  if (!in) return io_error("open", from);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) return io_error("read", from);
  return write_atomic(to, bytes.str());
}

std::string last_line(const std::string& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last;
}

Status create_dirs(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error{errc::kIo, "cannot create " + dir + ": " + ec.message()};
  return ok_status();
}

}  // namespace edgenas::files
