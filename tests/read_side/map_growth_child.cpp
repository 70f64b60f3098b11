// Child process of map_growth_test.cpp: drives a runtime's journal through map growth while
// a process manager catches up and sends commands, so that a deadlock between the growth
// and a reader shows as a child that never exits (the parent kills it and fails).
//
//   map_growth_child DATA_DIR grow      writes until the journal map grew to 8 MiB from
//                                       1 MiB, with the manager catching up all along
//   map_growth_child DATA_DIR fill      writes (no manager) until the journal's map is at
//                                       least 99.8 % used
//   map_growth_child DATA_DIR restart   opens a filled folder with the manager, which
//                                       catches up from 0 and writes at once
//
// Prints one line "ok ..." and exits 0 on success; exits 1 with a message on an error.
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "annal/aggregate_host.hpp"
#include "bank_account.hpp"
#include "counter_aggregate.hpp"

namespace {

using namespace annal;

constexpr const char* manager_name = "mirror";

int fail(const std::string& what, const error& e) {
  std::fprintf(stderr, "%s: %s\n", what.c_str(), e.to_string().c_str());
  return 1;
}

// For every account event: one command to a counter, whose outcome the manager waits for.
process_manager mirror() {
  process_manager pm;
  pm.options.name = manager_name;
  pm.options.filter = event_filter::categories({"account"});
  pm.options.chunk_events = 16; // many catch-up reads, each sending commands
  pm.options.max_retries = 1000;
  pm.options.backoff = std::chrono::milliseconds(5);
  pm.handle = [](process_context& ctx, const event_view& e) -> status {
    // The event counts as handled once the command's outcome arrived (a transient error
    // fails it, and it is retried): the manager waits for the writer.
    ctx.send<ctr::counter>("m" + std::to_string(e.position % 64), ctr::add{1, std::string{e.stream_id}});
    return {};
  };
  return pm;
}

result<std::unique_ptr<runtime>> open(const char* dir, bool with_manager) {
  runtime_config cfg;
  cfg.data_dir = dir;
  cfg.mode = durability::no_sync; // the deadlock does not depend on fsync; the test's speed does
  cfg.initial_map_size = std::size_t{1} << 20;
  cfg.max_map_size = std::size_t{1} << 30;
  // Small bus bounds: a manager slower than the writer falls back to catch-up reading
  // again and again, so map growth meets catch-up transactions.
  cfg.bus.max_buffered_events = 64;
  cfg.bus.max_unacked_events = 64;
  auto rt = runtime::open(cfg);
  if (!rt)
    return rt;
  if (auto ok = (*rt)->register_aggregate<bank::account>(); !ok)
    return std::move(ok).error();
  if (auto ok = (*rt)->register_aggregate<ctr::counter>(); !ok)
    return std::move(ok).error();
  if (with_manager)
    if (auto ok = (*rt)->add_process_manager(mirror()); !ok)
      return std::move(ok).error();
  if (auto ok = (*rt)->start(); !ok)
    return std::move(ok).error();
  return rt;
}

// Deposits to `accounts` accounts with a window of commands in flight until `done()`.
template <class Done>
status deposit_until(runtime& rt, int accounts, std::size_t window_size, Done done) {
  std::deque<std::future<command_result>> window;
  for (uint64_t i = 0; !done(i); ++i) {
    auto id = "a" + std::to_string(i % accounts);
    window.push_back(rt.send<bank::account>(id, bank::deposit{1}));
    if (window.size() >= window_size) {
      auto r = window.front().get();
      window.pop_front();
      if (!r && r.error().code != errc::rejected)
        return std::move(r).error();
    }
  }
  for (auto& f : window)
    if (auto r = f.get(); !r && r.error().code != errc::rejected)
      return std::move(r).error();
  return {};
}

status open_accounts(runtime& rt, int accounts) {
  for (int a = 0; a < accounts; ++a)
    if (auto r = rt.send<bank::account>("a" + std::to_string(a), bank::open{"owner"}).get();
        !r && r.error().code != errc::rejected)
      return std::move(r).error();
  return {};
}

// Waits until the manager has handled everything the journal holds.
status drain_manager(runtime& rt) {
  auto head = rt.store().stats();
  if (!head)
    return std::move(head).error();
  return rt.await_projection(manager_name, head->last_position, std::chrono::seconds(60));
}

int grow(const char* dir) {
  auto rt = open(dir, true);
  if (!rt)
    return fail("open", rt.error());
  if (auto ok = open_accounts(**rt, 512); !ok)
    return fail("open accounts", ok.error());
  std::vector<std::thread> writers;
  std::vector<status> outcomes(3);
  for (std::size_t w = 0; w < outcomes.size(); ++w)
    writers.emplace_back([&, w] {
      outcomes[w] = deposit_until(**rt, 512, 64, [&](uint64_t i) {
        if (i % 512 != 0)
          return false;
        auto s = (*rt)->store().stats();
        return !s || s->map_size >= (std::size_t{8} << 20);
      });
    });
  for (auto& t : writers)
    t.join();
  for (auto& o : outcomes)
    if (!o)
      return fail("deposits", o.error());
  if (auto ok = drain_manager(**rt); !ok)
    return fail("manager", ok.error());
  auto s = (*rt)->store().stats();
  if (!s)
    return fail("stats", s.error());
  std::printf("ok map=%zu used=%zu events=%llu\n", s->map_size, s->map_used,
              static_cast<unsigned long long>(s->events));
  return (*rt)->stop() ? 0 : 1;
}

int fill(const char* dir) {
  auto rt = open(dir, false);
  if (!rt)
    return fail("open", rt.error());
  if (auto ok = open_accounts(**rt, 64); !ok)
    return fail("open accounts", ok.error());
  // Large steps while far from full, single commands near the end: stop at >= 99.8 % of
  // a map of at least 4 MiB (a grown map: the restart must grow it again at once).
  auto full_enough = [&](uint64_t) {
    auto s = (*rt)->store().stats();
    return !s || (s->map_size >= (std::size_t{4} << 20) && s->map_used * 1000 >= s->map_size * 998);
  };
  for (;;) {
    auto s = (*rt)->store().stats();
    if (!s)
      return fail("stats", s.error());
    if (full_enough(0))
      break;
    bool far = s->map_used * 100 < s->map_size * 95;
    if (auto ok = deposit_until(**rt, 64, far ? 32 : 1, [&](uint64_t i) { return i >= (far ? 256u : 1u); }); !ok)
      return fail("deposits", ok.error());
  }
  auto s = (*rt)->store().stats();
  std::printf("ok map=%zu used=%zu\n", s->map_size, s->map_used);
  return (*rt)->stop() ? 0 : 1;
}

int restart(const char* dir) {
  auto rt = open(dir, true);
  if (!rt)
    return fail("open", rt.error());
  // New writes need a bigger map at once, while the manager catches up from 0.
  if (auto ok = deposit_until(**rt, 64, 16, [](uint64_t i) { return i >= 4096; }); !ok)
    return fail("deposits", ok.error());
  if (auto ok = drain_manager(**rt); !ok)
    return fail("manager", ok.error());
  auto s = (*rt)->store().stats();
  std::printf("ok map=%zu used=%zu\n", s->map_size, s->map_used);
  return (*rt)->stop() ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s DATA_DIR grow|fill|restart\n", argv[0]);
    return 2;
  }
  std::string mode = argv[2];
  if (mode == "grow")
    return grow(argv[1]);
  if (mode == "fill")
    return fill(argv[1]);
  if (mode == "restart")
    return restart(argv[1]);
  return 2;
}
