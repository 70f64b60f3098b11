#include "folder_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace annal::detail {

result<folder_lock> folder_lock::acquire(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return make_error(errc::io_error, "cannot create " + dir.string() + ": " + ec.message());
  // The folder itself, not a file in it: a lock file can be deleted from under a running
  // runtime (then a second one creates a new file and locks that), the folder cannot
  // while it holds the stores.
  auto path = dir.string();
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return make_error(errc::io_error, "cannot open " + path + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK)
      return make_error(errc::unavailable, "the data folder " + dir.string()
                                             + " is in use by another Annal runtime");
    return make_error(errc::io_error, "cannot lock " + path + ": " + std::strerror(err));
  }
  return folder_lock{fd};
}

folder_lock& folder_lock::operator=(folder_lock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

folder_lock::~folder_lock() {
  if (fd_ >= 0)
    ::close(fd_); // closing the descriptor releases the flock
}

} // namespace annal::detail
