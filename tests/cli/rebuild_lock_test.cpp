// rebuild needs the data folder to itself: when another process holds the runtime's own
// folder lock (an flock on the data folder, which a runtime takes before it opens any store), the
// command is refused with the documented "in use" exit code and one line on stderr.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "annal_process.hpp"
#include "shop_store.hpp"
#include "temp_dir.hpp"

using namespace annal::test;

namespace {

// One line, starting "annal: ", mentioning `text`, and nothing on stdout.
void require_one_line_error(const cli_run& r, const std::string& text) {
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.out.empty());
  REQUIRE(r.err.rfind("annal: ", 0) == 0);
  REQUIRE(r.err.find('\n') == r.err.size() - 1);
  REQUIRE(r.err.find(text) != std::string::npos);
}

// Another process that holds the exclusive flock on the data folder, as a runtime does
// from the moment it opens until it stops, until the object goes away.
class folder_lock_holder {
public:
  explicit folder_lock_holder(const std::filesystem::path& data) {
    int ready[2], release[2];
    if (::pipe2(ready, O_CLOEXEC) != 0)
      return;
    if (::pipe2(release, O_CLOEXEC) != 0) {
      ::close(ready[0]);
      ::close(ready[1]);
      return;
    }
    auto path = data.string();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(ready[0]);
      ::close(release[1]);
      int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      char ok = fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) == 0 ? 'y' : 'n';
      if (::write(ready[1], &ok, 1) != 1)
        ::_exit(1);
      char c = 0;
      while (::read(release[0], &c, 1) > 0) {
      } // until the parent closes its end (or dies)
      ::_exit(0);
    }
    ::close(ready[1]);
    ::close(release[0]);
    release_ = release[1];
    char ok = 0;
    if (pid_ > 0 && ::read(ready[0], &ok, 1) == 1)
      held_ = ok == 'y';
    ::close(ready[0]);
  }

  ~folder_lock_holder() { release(); }
  folder_lock_holder(const folder_lock_holder&) = delete;
  folder_lock_holder& operator=(const folder_lock_holder&) = delete;

  /// True when the other process took the lock.
  bool held() const noexcept { return held_; }
  pid_t pid() const noexcept { return pid_; }

  /// Lets go of the lock: the process ends (and the kernel drops its flock).
  void release() {
    if (release_ >= 0) {
      ::close(release_);
      release_ = -1;
    }
    if (pid_ > 0) {
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
    }
  }

private:
  pid_t pid_ = -1;
  int release_ = -1;
  bool held_ = false;
};

} // namespace

// The store guard (tools/annal/store_guard.cpp) sees LMDB's locks on lock.mdb; a runtime
// that holds the folder lock but has no environment open yet (one that is starting) gets past
// it, and the refusal then comes from runtime::open (errc::unavailable), which must map
// to the same exit code.
TEST_CASE("rebuild refuses with exit code 4 and one line while another runtime holds the "
          "folder lock",
          "[cli][rebuild]") {
  temp_dir data;
  write_shop_journal(data.path());
  {
    folder_lock_holder other{data.path()};
    REQUIRE(other.held());
    auto r = run_annal({"--data", data.path().string(), "rebuild", "catalog"});
    INFO("exit code " << r.exit_code);
    // docs/cli.md: "4 | the store is in use: another process has it open (for rebuild)".
    CHECK(r.exit_code == 4);
    require_one_line_error(r, "in use");
    CHECK(::kill(other.pid(), 0) == 0); // the holder still runs: the lock was never free
  }
  // Once the lock is free, the same command runs.
  auto ok = run_annal({"--data", data.path().string(), "rebuild", "catalog"});
  INFO("stdout: " << ok.out << "\nstderr: " << ok.err);
  CHECK(ok.exit_code == 0);
}
