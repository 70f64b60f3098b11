// A full disk is storage_full at every stage of a write (a put, the file's growth, a short
// write at commit, the sync), never io_error; nothing acknowledged is damaged, and writing
// resumes once space returns. Runs on a small tmpfs mounted for the test (needs root, as
// CI has; elsewhere it says so and checks nothing).
#include <sys/mount.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <string>

#include "annal/event_store.hpp"
#include "temp_dir.hpp"

using namespace annal;

namespace {

// A tmpfs of `size` mounted on a fresh folder for the test's lifetime.
class small_filesystem {
public:
  explicit small_filesystem(const char* size) {
    mounted_ = ::mount("tmpfs", dir_.path().c_str(), "tmpfs", 0, (std::string{"size="} + size).c_str()) == 0;
  }
  ~small_filesystem() {
    if (mounted_)
      ::umount2(dir_.path().c_str(), MNT_DETACH);
  }
  bool mounted() const noexcept { return mounted_; }
  std::filesystem::path operator/(const std::string& sub) const { return dir_ / sub; }

private:
  test::temp_dir dir_;
  bool mounted_ = false;
};

// Fills the filesystem with a file until a write fails; returns its path.
std::filesystem::path fill_up(const small_filesystem& fs, std::size_t leave_bytes) {
  auto path = fs / "filler";
  std::ofstream out{path, std::ios::binary};
  std::string block(4096, 'x');
  auto space = std::filesystem::space(path.parent_path());
  std::size_t to_write = space.available > leave_bytes ? space.available - leave_bytes : 0;
  for (std::size_t done = 0; done + block.size() <= to_write && out; done += block.size())
    out.write(block.data(), static_cast<std::streamsize>(block.size()));
  return path;
}

std::vector<new_event> events_of(std::size_t count, std::size_t payload_bytes, int tag) {
  std::vector<new_event> evs;
  for (std::size_t i = 0; i < count; ++i)
    evs.push_back(new_event{"t", 1, std::string(payload_bytes, static_cast<char>('a' + tag % 26)), {}, 0});
  return evs;
}

} // namespace

TEST_CASE("a full disk fails appends with storage_full at every stage, and writing resumes once "
          "space returns",
          "[storage_full]") {
  if (::geteuid() != 0) {
    WARN("not root: cannot mount a small filesystem; the storage-full test checks nothing here");
    return;
  }
  for (auto mode : {durability::durable, durability::no_sync}) {
    small_filesystem fs{"8m"};
    REQUIRE(fs.mounted());
    store_options o{fs / "journal"};
    o.mode = mode;
    o.initial_map_size = std::size_t{1} << 20; // grows (doubles) while the disk fills
    auto store = event_store::open(o);
    REQUIRE(store);
    auto filler = fill_up(fs, std::size_t{3} << 20);
    // Appends of varied sizes until many have failed: the failures land on puts, on the
    // file's growth and on short writes at commit alike.
    std::map<std::string, uint64_t> acked; // stream -> head
    std::map<errc, int> failures;
    int failed = 0;
    for (int i = 0; i < 4000 && failed < 60; ++i) {
      auto stream = "s-" + std::to_string(i % 97);
      auto r = (*store)->append(stream, expected_version::any(),
                                events_of(1 + i % 7, 64 + (i * 7919) % 60000, i));
      if (r) {
        acked[stream] = r->next_expected_version;
      } else {
        ++failures[r.error().code];
        ++failed;
        INFO(r.error().to_string());
        CHECK(r.error().code == errc::storage_full);
      }
    }
    REQUIRE(failed > 0);
    CHECK(failures.size() == 1);
    // Space returns: writing resumes, and everything acknowledged reads back intact.
    std::filesystem::remove(filler);
    auto again = (*store)->append("after", expected_version::any(), events_of(3, 10000, 1));
    INFO((again ? std::string{} : again.error().to_string()));
    CHECK(again);
    for (const auto& [stream, head] : acked) {
      auto back = (*store)->read_stream(stream);
      REQUIRE(back);
      REQUIRE(back->size() == head);
      for (const auto& e : *back)
        CHECK_FALSE(e.corrupt);
    }
  }
}
