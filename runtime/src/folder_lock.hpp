// Internal: the exclusive lock a runtime holds on its data folder, so that two runtimes
// (two nodes, or a node and an offline `annal rebuild`) never write one folder at once.
// An flock() on the data folder itself (not on a file inside it, which could be deleted
// from under a running runtime): released by the kernel when the process dies, so a crash
// never leaves a stale lock behind.
#pragma once

#include <filesystem>

#include "annal/result.hpp"

namespace annal::detail {

class folder_lock {
public:
  /// Takes the lock of `dir` (created when missing). Errors: unavailable (held by another
  /// runtime), io_error.
  static result<folder_lock> acquire(const std::filesystem::path& dir);

  folder_lock(folder_lock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  folder_lock& operator=(folder_lock&& other) noexcept;
  folder_lock(const folder_lock&) = delete;
  folder_lock& operator=(const folder_lock&) = delete;
  ~folder_lock();

private:
  explicit folder_lock(int fd) noexcept : fd_(fd) {}
  int fd_ = -1;
};

} // namespace annal::detail
