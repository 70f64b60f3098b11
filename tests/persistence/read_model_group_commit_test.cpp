// Group commit of the read-model store: concurrent write() calls share transactions (one
// pair of syncs for all), and each keeps its own outcome.
#include <catch2/catch.hpp>

#include <lmdb.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "annal/read_model_store.hpp"
#include "temp_dir.hpp"

using namespace annal;

namespace {

std::unique_ptr<read_model_store> open_group_store(const std::filesystem::path& dir,
                                          std::size_t initial_map = std::size_t{64} << 20) {
  store_options o;
  o.dir = dir;
  o.initial_map_size = initial_map;
  auto r = read_model_store::open(o);
  REQUIRE(r);
  return std::move(*r);
}

// Transactions committed so far (LMDB's last transaction id).
std::size_t commits(read_model_store& s) {
  MDB_envinfo info{};
  mdb_env_info(static_cast<MDB_env*>(s.native_handle()), &info);
  return info.me_last_txnid;
}

// Runs `per_thread` writes on each of `threads` threads, released together.
template <class Write>
void write_concurrently(int threads, int per_thread, Write write) {
  std::atomic<int> ready{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      ++ready;
      while (ready < threads)
        std::this_thread::yield();
      for (int i = 0; i < per_thread; ++i)
        write(t, i);
    });
  for (auto& th : pool)
    th.join();
}

std::string key_of(int thread, int i) {
  return std::to_string(thread) + "/" + std::to_string(i);
}

} // namespace

TEST_CASE("concurrent read-model writes share commits, and each write is durable when it returns",
          "[read_models][storage]") {
  test::temp_dir dir;
  auto rm = open_group_store(dir.path());
  auto table = rm->table("rows");
  REQUIRE(table);
  const int threads = 8, per_thread = 40;
  auto before = commits(*rm);
  std::atomic<int> missing{0};
  write_concurrently(threads, per_thread, [&](int t, int i) {
    auto key = key_of(t, i);
    auto ok = rm->write([&](read_model_txn& txn) { return txn.put(*table, key, "v"); });
    REQUIRE(ok);
    // Returned success: committed, so any reader sees it now.
    auto seen = rm->read([&](const read_model_txn& txn) -> status {
      auto v = txn.get(*table, key);
      if (!v || !*v)
        ++missing;
      return {};
    });
    REQUIRE(seen);
  });
  CHECK(missing == 0);
  auto used = commits(*rm) - before;
  INFO("commits for " << threads * per_thread << " writes: " << used);
  CHECK(used < static_cast<std::size_t>(threads * per_thread));
  // Timed once per shared commit, not once per write.
  CHECK(rm->commit_durations().count == used);
}

TEST_CASE("a failing or throwing read-model write undoes only its own writes in a shared commit",
          "[read_models][storage]") {
  test::temp_dir dir;
  auto rm = open_group_store(dir.path());
  auto table = rm->table("rows");
  REQUIRE(table);
  const int threads = 8, per_thread = 30;
  std::atomic<int> wrong_outcome{0};
  write_concurrently(threads, per_thread, [&](int t, int i) {
    auto key = key_of(t, i);
    int kind = (t + i) % 3; // 0: succeeds, 1: returns an error, 2: throws
    auto ok = rm->write([&](read_model_txn& txn) -> status {
      if (auto r = txn.put(*table, key, "v"); !r)
        return r;
      if (kind == 1)
        return make_error(errc::rejected, "refused by the handler");
      if (kind == 2)
        throw std::runtime_error("handler bug");
      return {};
    });
    bool expect_ok = kind == 0;
    if (static_cast<bool>(ok) != expect_ok)
      ++wrong_outcome;
    if (kind == 1 && !ok && ok.error().code != errc::rejected)
      ++wrong_outcome; // its own error, not another's
  });
  CHECK(wrong_outcome == 0);
  int present = 0, wrongly_present = 0;
  auto ok = rm->read([&](const read_model_txn& txn) -> status {
    for (int t = 0; t < threads; ++t)
      for (int i = 0; i < per_thread; ++i) {
        auto v = txn.get(*table, key_of(t, i));
        REQUIRE(v);
        bool exists = v->has_value();
        if ((t + i) % 3 == 0)
          present += exists ? 1 : 0;
        else
          wrongly_present += exists ? 1 : 0;
      }
    return {};
  });
  REQUIRE(ok);
  CHECK(present == threads * per_thread / 3);
  CHECK(wrongly_present == 0);
}

TEST_CASE("shared read-model commits grow the map and keep every write", "[read_models][storage]") {
  test::temp_dir dir;
  auto rm = open_group_store(dir.path(), std::size_t{1} << 20); // 1 MiB: several doublings below
  auto table = rm->table("rows");
  REQUIRE(table);
  const int threads = 6, per_thread = 60;
  const std::string value(2000, 'x');
  std::atomic<int> failed{0};
  write_concurrently(threads, per_thread, [&](int t, int i) {
    auto key = key_of(t, i);
    if (!rm->write([&](read_model_txn& txn) { return txn.put(*table, key, value); }))
      ++failed;
  });
  CHECK(failed == 0);
  int present = 0;
  auto ok = rm->read([&](const read_model_txn& txn) -> status {
    for (int t = 0; t < threads; ++t)
      for (int i = 0; i < per_thread; ++i) {
        auto v = txn.get(*table, key_of(t, i));
        if (v && *v && **v == value)
          ++present;
      }
    return {};
  });
  REQUIRE(ok);
  CHECK(present == threads * per_thread);
}
