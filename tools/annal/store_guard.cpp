#include "store_guard.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace annal::cli {

namespace {

// The pid holding a lock on byte 0 of the file open on `fd` that conflicts with an
// exclusive one (another process's, never ours), if any.
std::optional<pid_t> lock_holder(int fd) {
  struct flock probe {};
  probe.l_type = F_WRLCK;
  probe.l_whence = SEEK_SET;
  probe.l_start = 0;
  probe.l_len = 1;
  if (::fcntl(fd, F_GETLK, &probe) != 0 || probe.l_type == F_UNLCK)
    return std::nullopt;
  return probe.l_pid;
}

failure in_use(const std::filesystem::path& dir, pid_t pid) {
  return failure{exit_code::locked,
                 dir.string() + " is open in process " + std::to_string(pid)
                   + " (a running node?); stop it first"};
}

} // namespace

std::optional<pid_t> process_using(const std::filesystem::path& dir) {
  auto path = (dir / "lock.mdb").string();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return std::nullopt; // no lock file: nobody ever opened it, or it is not LMDB's
  auto pid = lock_holder(fd);
  ::close(fd);
  return pid;
}

outcome<std::unique_ptr<store_guard>> store_guard::acquire(const data_folder& folder) {
  std::unique_ptr<store_guard> g{new store_guard};
  for (const auto& dir : {folder.journal_dir(), folder.read_models_dir()}) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    auto path = (dir / "lock.mdb").string();
    // Created as LMDB would create it; opened read-write so that F_GETLK can test for
    // a write lock.
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
      return failure{exit_code::failed, "cannot open " + path + ": " + std::strerror(errno)};
    g->files_.push_back(watched{dir, fd});
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0)
      return failure{exit_code::locked,
                     dir.string() + " is being rebuilt or restored by another annal command"};
    if (auto pid = lock_holder(fd))
      return in_use(dir, *pid);
  }
  return g;
}

std::optional<failure> store_guard::recheck() const {
  for (const auto& w : files_)
    if (auto pid = lock_holder(w.fd))
      return in_use(w.dir, *pid);
  return std::nullopt;
}

store_guard::~store_guard() {
  for (const auto& w : files_)
    ::close(w.fd);
}

} // namespace annal::cli
