// Optimistic concurrency under real contention: many threads append to one stream with
// exact expected versions while readers scan the journal. Catch2 assertions are not
// thread-safe, so the threads record what they saw and the main thread checks it.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "annal/event_store.hpp"
#include "annal/read_model_store.hpp"
#include "temp_dir.hpp"

using namespace annal;

namespace {

std::unique_ptr<event_store> open_concurrent_store(const std::filesystem::path& dir) {
  store_options o;
  o.dir = dir;
  auto r = event_store::open(o);
  REQUIRE(r);
  return std::move(*r);
}

std::vector<new_event> single(std::string payload) {
  std::vector<new_event> v(1);
  v[0].type = "Tick";
  v[0].payload = std::move(payload);
  return v;
}

// A reusable barrier (C++17 has no std::barrier).
class barrier {
public:
  explicit barrier(std::size_t n) : n_(n) {}
  void arrive_and_wait() {
    std::unique_lock<std::mutex> lock{m_};
    auto gen = generation_;
    if (++waiting_ == n_) {
      waiting_ = 0;
      ++generation_;
      cv_.notify_all();
      return;
    }
    cv_.wait(lock, [&] { return generation_ != gen; });
  }

private:
  std::mutex m_;
  std::condition_variable cv_;
  std::size_t n_;
  std::size_t waiting_ = 0;
  std::size_t generation_ = 0;
};

// What one reader thread saw going wrong (empty when all was well).
struct reader_report {
  std::vector<std::string> problems;
  uint64_t reads = 0;
  uint64_t max_seen = 0;
};

// Reads the journal until `stop`, checking that every read is a consistent prefix: global
// positions strictly increase, the hot stream's versions run 1..n without a gap, and an
// event once seen never changes or disappears.
void read_until(event_store& s, std::string_view stream, const std::atomic<bool>& stop,
                reader_report& report) {
  std::map<stream_version, std::string> seen; // version -> payload
  uint64_t last_count = 0;
  auto problem = [&](std::string what) {
    if (report.problems.size() < 20)
      report.problems.push_back(std::move(what));
  };
  do {
    bool stopping = stop.load();
    auto all = s.read_all(0, std::numeric_limits<uint64_t>::max());
    if (!all) {
      problem("read_all failed: " + all.error().to_string());
    } else {
      stream_version expect_version = 1;
      global_position prev = 0;
      for (const auto& e : *all) {
        if (e.position <= prev)
          problem("read_all positions not increasing at " + std::to_string(e.position));
        prev = e.position;
        if (e.corrupt)
          problem("corrupt event at " + std::to_string(e.position));
        if (e.stream_id == stream) {
          if (e.version != expect_version)
            problem("read_all: version " + std::to_string(e.version) + " where "
                    + std::to_string(expect_version) + " was expected");
          expect_version = e.version + 1;
        }
      }
    }
    auto evs = s.read_stream(stream);
    if (!evs) {
      problem("read_stream failed: " + evs.error().to_string());
    } else {
      if (evs->size() < last_count)
        problem("read_stream went backwards: " + std::to_string(evs->size()) + " after "
                + std::to_string(last_count));
      last_count = evs->size();
      global_position prev = 0;
      for (std::size_t i = 0; i < evs->size(); ++i) {
        const auto& e = (*evs)[i];
        if (e.version != i + 1)
          problem("read_stream: version " + std::to_string(e.version) + " at index "
                  + std::to_string(i));
        if (e.position <= prev)
          problem("read_stream positions not increasing at version "
                  + std::to_string(e.version));
        prev = e.position;
        auto [it, fresh] = seen.emplace(e.version, e.payload);
        if (!fresh && it->second != e.payload)
          problem("version " + std::to_string(e.version) + " changed its payload");
      }
      report.max_seen = std::max<uint64_t>(report.max_seen, evs->size());
    }
    auto head = s.stream_head(stream);
    if (!head)
      problem("stream_head failed: " + head.error().to_string());
    ++report.reads;
    if (stopping)
      break;
  } while (true);
}

} // namespace

TEST_CASE("concurrent exact-version appends to one stream never lose or duplicate an event",
          "[concurrency]") {
  test::temp_dir dir;
  auto store = open_concurrent_store(dir.path());
  auto& s = *store;
  constexpr int writers = 8;
  constexpr int per_writer = 60;
  constexpr int total = writers * per_writer;
  const std::string stream = "hot";

  struct writer_report {
    std::vector<stream_version> won;  // versions this writer's appends created
    uint64_t conflicts = 0;
    std::vector<std::string> other_errors;
  };
  std::vector<writer_report> wr(writers);
  std::vector<reader_report> rr(2);
  std::atomic<bool> stop{false};

  std::vector<std::thread> readers;
  for (auto& r : rr)
    readers.emplace_back([&s, &stream, &stop, &r] { read_until(s, stream, stop, r); });

  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&s, &stream, &wr, w] {
      auto& me = wr[static_cast<std::size_t>(w)];
      int written = 0;
      while (written < per_writer) {
        auto head = s.stream_head(stream);
        if (!head) {
          me.other_errors.push_back(head.error().to_string());
          return;
        }
        auto r = s.append(stream, expected_version::exact(head->head),
                          single("w" + std::to_string(w) + "-" + std::to_string(written)));
        if (r) {
          me.won.push_back(r->next_expected_version);
          ++written;
        } else if (r.error().code == errc::conflict) {
          ++me.conflicts;
        } else {
          me.other_errors.push_back(r.error().to_string());
          return;
        }
      }
    });
  }
  for (auto& t : threads)
    t.join();
  stop = true;
  for (auto& t : readers)
    t.join();

  // Every append either won a version or lost with a conflict.
  std::multiset<stream_version> won;
  uint64_t conflicts = 0;
  for (const auto& r : wr) {
    CHECK(r.other_errors.empty());
    for (const auto& e : r.other_errors)
      UNSCOPED_INFO(e);
    CHECK(r.won.size() == std::size_t(per_writer));
    won.insert(r.won.begin(), r.won.end());
    conflicts += r.conflicts;
  }
  // Each version was won by exactly one append.
  REQUIRE(won.size() == std::size_t(total));
  stream_version expect = 1;
  for (auto v : won)
    CHECK(v == expect++);

  // The stream is gap-free 1..total and holds each writer's events once, in its order.
  auto evs = s.read_stream(stream);
  REQUIRE(evs);
  REQUIRE(evs->size() == std::size_t(total));
  std::set<std::string> payloads;
  std::vector<int> next_of(writers, 0);
  for (std::size_t i = 0; i < evs->size(); ++i) {
    const auto& e = (*evs)[i];
    CHECK(e.version == i + 1);
    CHECK(e.position == i + 1);
    CHECK(payloads.insert(e.payload).second);
    auto dash = e.payload.find('-');
    REQUIRE(dash != std::string::npos);
    auto w = std::stoi(e.payload.substr(1, dash - 1));
    auto n = std::stoi(e.payload.substr(dash + 1));
    REQUIRE(w >= 0);
    REQUIRE(w < writers);
    CHECK(n == next_of[static_cast<std::size_t>(w)]++);
  }
  auto head = s.stream_head(stream);
  REQUIRE(head);
  CHECK(head->head == stream_version(total));
  auto last = s.last_position();
  REQUIRE(last);
  CHECK(*last == global_position(total));

  for (const auto& r : rr) {
    CHECK(r.problems.empty());
    for (const auto& p : r.problems)
      UNSCOPED_INFO(p);
    CHECK(r.reads > 0);
    CHECK(r.max_seen == std::uint64_t(total)); // the final read after the writers saw all
  }
  INFO("conflicts: " << conflicts);
  SUCCEED();
}

TEST_CASE("of appends racing on the same expected version exactly one wins",
          "[concurrency]") {
  test::temp_dir dir;
  auto store = open_concurrent_store(dir.path());
  auto& s = *store;
  constexpr int racers = 8;
  constexpr int rounds = 25;
  const std::string stream = "race";
  barrier sync{racers};
  // outcome[round][racer]: 1 won, 0 conflict, -1 anything else
  std::vector<std::vector<int>> outcome(rounds, std::vector<int>(racers, -1));
  std::vector<std::vector<stream_version>> seen_head(rounds,
                                                     std::vector<stream_version>(racers, 0));
  std::vector<std::thread> threads;
  for (int t = 0; t < racers; ++t) {
    threads.emplace_back([&, t] {
      auto ti = static_cast<std::size_t>(t);
      for (std::size_t round = 0; round < std::size_t(rounds); ++round) {
        sync.arrive_and_wait(); // everyone reads the same head ...
        auto head = s.stream_head(stream);
        stream_version h = head ? head->head : ~stream_version{0};
        seen_head[round][ti] = h;
        sync.arrive_and_wait(); // ... before anyone appends
        auto r = s.append(stream, expected_version::exact(h),
                          single("r" + std::to_string(round) + "-" + std::to_string(t)));
        outcome[round][ti] = r ? 1 : (r.error().code == errc::conflict ? 0 : -1);
      }
    });
  }
  for (auto& t : threads)
    t.join();
  for (std::size_t round = 0; round < std::size_t(rounds); ++round) {
    INFO("round " << round);
    int winners = 0, losers = 0;
    for (std::size_t t = 0; t < std::size_t(racers); ++t) {
      CHECK(seen_head[round][t] == round);
      winners += outcome[round][t] == 1;
      losers += outcome[round][t] == 0;
    }
    CHECK(winners == 1);
    CHECK(losers == racers - 1);
  }
  auto evs = s.read_stream(stream);
  REQUIRE(evs);
  REQUIRE(evs->size() == std::size_t(rounds));
  for (std::size_t i = 0; i < evs->size(); ++i) {
    CHECK((*evs)[i].version == i + 1);
    CHECK((*evs)[i].payload.rfind("r" + std::to_string(i) + "-", 0) == 0);
  }
}

TEST_CASE("the map grows while writers and readers run concurrently", "[concurrency][storage]") {
  test::temp_dir dir;
  store_options o;
  o.dir = dir.path();
  o.initial_map_size = std::size_t{1} << 20;
  auto opened = event_store::open(o);
  REQUIRE(opened);
  auto& s = **opened;
  constexpr int writers = 4;
  constexpr int appends = 60;
  constexpr int per_append = 5;
  constexpr std::size_t payload_size = 5000; // 4 * 60 * 5 * 5 kB = 6 MB
  std::vector<std::vector<std::string>> writer_errors(writers);
  std::vector<reader_report> rr(2);
  std::atomic<int> writers_done{0};
  std::atomic<bool> stop{false};

  std::vector<std::thread> readers;
  for (auto& r : rr) {
    readers.emplace_back([&s, &stop, &r] {
      global_position after = 0;
      while (!stop.load()) {
        auto page = s.read_all(after, 50);
        ++r.reads;
        if (!page) {
          if (r.problems.size() < 20)
            r.problems.push_back("read_all failed: " + page.error().to_string());
          continue;
        }
        for (const auto& e : *page) {
          if (e.position != after + 1 && r.problems.size() < 20)
            r.problems.push_back("gap after " + std::to_string(after));
          if ((e.corrupt || e.payload.size() != payload_size) && r.problems.size() < 20)
            r.problems.push_back("bad event at " + std::to_string(e.position));
          after = e.position;
        }
        r.max_seen = after;
        if (page->empty())
          after = 0; // start over: keep the readers busy until the writers are done
      }
    });
  }
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&s, &writer_errors, &writers_done, w] {
      auto id = "grow-" + std::to_string(w);
      for (int a = 0; a < appends; ++a) {
        std::vector<new_event> evs(per_append);
        for (auto& e : evs) {
          e.type = "Blob";
          e.payload.assign(payload_size, static_cast<char>('a' + w));
        }
        auto r = s.append(id, expected_version::exact(stream_version(a) * per_append),
                          std::move(evs));
        if (!r) {
          writer_errors[std::size_t(w)].push_back(r.error().to_string());
          break;
        }
      }
      ++writers_done;
    });
  }
  // The writers must finish while the readers keep reading; if map growth waited for a
  // moment without readers, stopping them below unblocks the writers and the check fails.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(8);
  while (writers_done.load() < writers && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  bool finished_in_time = writers_done.load() == writers;
  stop = true;
  for (auto& t : readers)
    t.join();
  for (auto& t : threads)
    t.join();

  CHECK(finished_in_time);
  for (const auto& errs : writer_errors) {
    CHECK(errs.empty());
    for (const auto& e : errs)
      UNSCOPED_INFO(e);
  }
  for (const auto& r : rr) {
    CHECK(r.problems.empty());
    for (const auto& p : r.problems)
      UNSCOPED_INFO(p);
    CHECK(r.reads > 0);
  }
  auto st = s.stats();
  REQUIRE(st);
  CHECK(st->events == std::uint64_t(writers * appends * per_append));
  CHECK(st->map_size > (std::size_t{4} << 20));
  for (int w = 0; w < writers; ++w) {
    auto head = s.stream_head("grow-" + std::to_string(w));
    REQUIRE(head);
    CHECK(head->head == stream_version(appends * per_append));
  }
}

TEST_CASE("many writers growing a read-model store's map never fault on the remapped meta pages",
          "[concurrency][storage]") {
  // Each write transaction starts by reading the map size, which LMDB reads through the
  // map's meta pages; a writer that did so while another one remapped faulted. Many short
  // transactions from several threads across several doublings make that overlap likely.
  for (int round = 0; round < 3; ++round) {
    test::temp_dir dir;
    store_options o;
    o.dir = dir.path();
    o.mode = durability::no_sync;
    o.initial_map_size = std::size_t{1} << 20;
    auto opened = read_model_store::open(o);
    REQUIRE(opened);
    auto& s = **opened;
    auto table = s.table("rows");
    REQUIRE(table);
    constexpr int writers = 4;
    std::vector<std::string> errors(writers);
    std::vector<std::thread> threads;
    for (int w = 0; w < writers; ++w)
      threads.emplace_back([&, w] {
        std::string value(2000, static_cast<char>('a' + w));
        for (int i = 0; i < 4000 && errors[std::size_t(w)].empty(); ++i) {
          auto key = std::to_string(w) + "/" + std::to_string(i);
          auto ok = s.write([&](read_model_txn& t) { return t.put(*table, key, value); });
          if (!ok)
            errors[std::size_t(w)] = ok.error().to_string();
        }
      });
    for (auto& t : threads)
      t.join();
    for (const auto& e : errors)
      CHECK(e.empty());
  }
}
