// The file-structure check that runs before LMDB walks a store: a clean store passes (also
// while another process keeps writing to it), and each kind of damage that crashed LMDB
// (flipped bytes in page headers and node offsets, a truncated file, a zeroed page) is
// refused with errc::corrupt naming the file, by check_store_file and by every open.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <thread>

#include "annal/event_store.hpp"
#include "annal/read_model_store.hpp"
#include "annal/store_file_check.hpp"
#include "temp_dir.hpp"

using namespace annal;

namespace {

constexpr std::size_t page = 4096;

std::string read_bytes(const std::filesystem::path& p) {
  std::ifstream in{p, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

void write_bytes(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream out{p, std::ios::binary | std::ios::trunc};
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

// A journal with `events` events in a few hundred streams (several tree levels).
void fill(const std::filesystem::path& dir, int events) {
  store_options o;
  o.dir = dir;
  o.mode = durability::no_sync;
  auto s = event_store::open(o);
  REQUIRE(s);
  for (int i = 0; i < events; i += 100) {
    std::vector<stream_append> batch;
    for (int k = 0; k < 100; ++k) {
      new_event e;
      e.type = "Filled";
      e.payload = "event-" + std::to_string(i + k) + std::string(60, '.');
      batch.push_back({"stream-" + std::to_string((i + k) % 300), expected_version::any(), {e}});
    }
    REQUIRE((*s)->append(std::move(batch)));
  }
}

void require_refused(const std::filesystem::path& dir, const std::string& what) {
  auto file = (dir / "data.mdb").string();
  auto checked = check_store_file(dir);
  REQUIRE_FALSE(checked);
  CHECK(checked.error().code == errc::corrupt);
  CHECK(checked.error().message.find(file) != std::string::npos);
  INFO(checked.error().message);
  CHECK(checked.error().message.find(what) != std::string::npos);
  store_options o;
  o.dir = dir;
  auto opened = event_store::open(o);
  REQUIRE_FALSE(opened);
  CHECK(opened.error().code == errc::corrupt);
  o.read_only = true;
  CHECK_FALSE(event_store::open(o));
}

} // namespace

TEST_CASE("a clean store passes the file check", "[persistence][file_check]") {
  test::temp_dir dir;
  auto empty = check_store_file(dir.path());
  REQUIRE_FALSE(empty);
  CHECK(empty.error().code == errc::not_found);
  fill(dir.path(), 20000);
  auto checked = check_store_file(dir.path());
  REQUIRE(checked);
  CHECK(checked->used_pages > 100);
  CHECK(checked->used_pages + checked->free_pages <= checked->file_pages);
  {
    store_options o;
    o.dir = dir / "rm";
    auto rm = read_model_store::open(o);
    REQUIRE(rm);
    auto t = (*rm)->table("things");
    REQUIRE(t);
    REQUIRE((*rm)->write(
      [&](read_model_txn& tx) { return tx.put(*t, "k", std::string(20000, 'v')); }));
  }
  CHECK(check_store_file(dir / "rm")); // a value on overflow pages
}

TEST_CASE("a zeroed page is refused before LMDB walks it", "[persistence][file_check]") {
  test::temp_dir dir;
  fill(dir.path(), 20000);
  auto file = dir / "data.mdb";
  auto bytes = read_bytes(file);
  // Every copy of a leaf page of events: the live one among them (an LMDB assertion).
  auto at = bytes.find("event-12345.");
  REQUIRE(at != std::string::npos);
  for (; at != std::string::npos; at = bytes.find("event-12345.", at + 1))
    std::fill_n(bytes.begin() + static_cast<std::ptrdiff_t>(at / page * page), page, '\0');
  write_bytes(file, bytes);
  require_refused(dir.path(), "zeroed or overwritten");
}

TEST_CASE("a truncated file is refused before LMDB maps it", "[persistence][file_check]") {
  test::temp_dir dir;
  fill(dir.path(), 20000);
  auto file = dir / "data.mdb";
  std::filesystem::resize_file(file, std::filesystem::file_size(file) / page / 2 * page);
  require_refused(dir.path(), "truncated");
}

TEST_CASE("a flipped node offset or child page number is refused", "[persistence][file_check]") {
  test::temp_dir dir;
  fill(dir.path(), 20000);
  auto file = dir / "data.mdb";
  auto clean = read_bytes(file);
  // The first node offset of every leaf page holding an event's payload: pointing into
  // the page's free space or beyond it (a SIGSEGV in LMDB), in every copy.
  auto bytes = clean;
  for (auto at = bytes.find("event-777."); at != std::string::npos;
       at = bytes.find("event-777.", at + 1))
    bytes[at / page * page + 17] = static_cast<char>(0x7f);
  write_bytes(file, bytes);
  auto checked = check_store_file(dir.path());
  REQUIRE_FALSE(checked);
  CHECK(checked.error().code == errc::corrupt);
}

TEST_CASE("the file check passes beside a process that keeps writing", "[persistence][file_check]") {
  test::temp_dir dir;
  fill(dir.path(), 2000);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // The writer: appends until it is killed (its own process: LMDB allows one
    // environment per file and process).
    store_options o;
    o.dir = dir.path();
    o.mode = durability::no_sync;
    auto s = event_store::open(o);
    for (uint64_t i = 0; s; ++i) {
      new_event e;
      e.type = "Filled";
      e.payload = std::string(200, 'w');
      if (!(*s)->append("w-" + std::to_string(i % 500), expected_version::any(), {e}))
        ::_exit(1);
    }
    ::_exit(2);
  }
  // Until the writer has written a good deal (bounded), check again and again.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  int checks = 0;
  uint64_t first_pages = 0, last_pages = 0;
  while (checks < 200 && std::chrono::steady_clock::now() < deadline) {
    auto checked = check_store_file(dir.path());
    INFO("check " << checks);
    REQUIRE(checked);
    if (checks == 0)
      first_pages = checked->file_pages;
    last_pages = checked->file_pages;
    ++checks;
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  CHECK(checks > 10);
  CHECK(last_pages > first_pages); // the writer did write meanwhile
}
