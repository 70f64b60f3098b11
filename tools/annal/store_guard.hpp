// Exclusive use of a data folder for offline work (rebuild), and how the CLI knows that
// a node (or any other process) has the folder's stores open.
//
// Detection: every process that has an LMDB environment open holds a shared fcntl lock
// on byte 0 of its lock.mdb for as long as it keeps it open (LMDB takes it in
// mdb_env_open; the kernel drops it when the process ends, even by kill -9). Asking the
// kernel with F_GETLK whether an exclusive lock on that byte could be taken names the
// pid of such a process, so a running node is found without any cooperation from it and
// without stale lock files. Two offline commands exclude each other with flock() on the
// same file (flock and fcntl locks do not interact on Linux).
//
// Caveat (POSIX): closing ANY descriptor of a file drops ALL fcntl locks the process holds
// on it, including LMDB's own. A guard therefore keeps its descriptors open until it is
// destroyed, and must outlive every environment the process opens on the folder.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "data_folder.hpp"
#include "exit_code.hpp"

namespace annal::cli {

/// The pid of another process that has the LMDB environment in `dir` open, if any.
/// REQUIRES: this process has no environment open on `dir` (see the caveat above).
std::optional<pid_t> process_using(const std::filesystem::path& dir);

/// Thread safety: one thread. Not copyable; destroy it after the stores it guards.
class store_guard {
public:
  /// Takes `folder` for offline work. Failure `locked`: another process has its journal
  /// or read models open (a running node, a tail, ...), or another offline command runs.
  /// REQUIRES: this process has no environment of the folder open yet.
  static outcome<std::unique_ptr<store_guard>> acquire(const data_folder& folder);

  /// Checks again (during long work, after this process opened the stores itself) that
  /// no other process opened them meanwhile. Failure `locked` names it.
  std::optional<failure> recheck() const;

  ~store_guard();
  store_guard(const store_guard&) = delete;
  store_guard& operator=(const store_guard&) = delete;

private:
  struct watched {
    std::filesystem::path dir;
    int fd = -1;
  };
  store_guard() = default;
  std::vector<watched> files_;
};

} // namespace annal::cli
