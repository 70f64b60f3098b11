// Read-side benchmark of the runtime (issue: projections). Cases:
//   lag             live lag (durable commit -> visible in the projection's read model) of three
//                   projections (two durable, one in memory) while W1 (10,000 counter
//                   aggregates) runs at half of its maximum rate, measured first (W1_max)
//   catchup_lmdb    catch-up rate from position 0 into a durable LMDB read model
//   catchup_memory  catch-up rate from position 0 into an in-memory model
//   read_log        the raw journal read rate (event_store::read_all_batch, no apply): the
//                   baseline of both catch-up figures
// Output: JSON lines on stdout (bench-format.md), tables on stderr.
//
//   projections_bench [--quick] [--dir PATH] [--no-sync] [--only lag,catchup] [--rounds N]
//                     [--caf --opt=value]...
//
// Lag is measured per event as (the time the projection made it visible) - (the time the
// journal commit holding it became durable, noted by the writer's after_commit hook): the
// issue's "commit -> projection applied". `lag_since_txn_begin` measures from the
// timestamp in the event's envelope instead, stamped when the journal's write transaction
// began, so the journal's own write and fsync count in. "Visible" is when the projection's
// monitor reported a position covering the event (the point where a read-your-writes query
// at that position returns: for durable projections after the read-model transaction
// committed): one waiter thread per projection blocks in runtime::await_projection and
// stamps each advance. The time the handler ran is also recorded (stderr table, "handler").
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "annal/aggregate_host.hpp"
#include "support/bench_dir.hpp"
#include "support/bench_output.hpp"
#include "support/command_driver.hpp"
#include "support/counter_aggregate.hpp"
#include "support/fsync_probe.hpp"
#include "support/runtime_bench_options.hpp"
#include "support/stats.hpp"

using namespace annal;
using namespace annal::bench;

namespace {

struct options : runtime_bench_options {
  int rounds = 0; // 0: by mode
};

options parse(int argc, char** argv) {
  options o;
  parse_runtime_bench_options(
    argc, argv, o,
    "projections_bench [--quick] [--dir PATH] [--no-sync] [--only lag,catchup] "
    "[--rounds N] [--caf --opt=value]...",
    [&](const std::string& a, const std::string& v) {
      if (a != "--rounds")
        return false;
      o.rounds = std::stoi(v);
      return true;
    });
  return o;
}

[[noreturn]] void die(const std::string& what) {
  std::cerr << "projections_bench: " << what << "\n";
  std::exit(1);
}

template <class T>
T need(result<T> r, const char* what) {
  if (!r)
    die(std::string{what} + ": " + r.error().to_string());
  return std::move(*r);
}

void need(status s, const char* what) {
  if (!s)
    die(std::string{what} + ": " + s.error().to_string());
}

std::unique_ptr<runtime> open_runtime(const options& o, const std::filesystem::path& dir,
                                      std::function<void(global_position)> after_commit = {}) {
  runtime_config cfg;
  cfg.data_dir = dir;
  cfg.writer.after_commit = std::move(after_commit);
  cfg.mode = o.no_sync ? durability::no_sync : durability::durable;
  cfg.caf_args = o.caf_args;
  auto rt = need(runtime::open(cfg), "open runtime");
  need(rt->register_aggregate<counter>(), "register counter");
  return rt;
}

uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

struct report {
  text_table table{{"case", "metric", "value", "baseline", "ratio"}};
  void add(const std::string& c, const std::string& metric, double value, double baseline = -1) {
    json_line l;
    l.str("bench", "projections").str("case", c).str("metric", metric).num("value", value, 1);
    std::string b, r;
    if (baseline > 0) {
      double ratio = value / baseline;
      l.num("baseline", baseline, 1).num("ratio", ratio, 3);
      b = grouped(baseline, 1);
      r = fixed(ratio, 3);
    }
    l.print();
    table.add({c, metric, grouped(value, 1), b, r});
  }
};

// Big-endian u64 <-> 8 bytes (read-model values of the durable handlers).
std::string be64(uint64_t x) {
  std::string s(8, '\0');
  for (int i = 7; i >= 0; --i, x >>= 8)
    s[static_cast<std::size_t>(i)] = static_cast<char>(x & 0xff);
  return s;
}
uint64_t from_be64(std::string_view s) {
  uint64_t x = 0;
  for (std::size_t i = 0; i < 8 && i < s.size(); ++i)
    x = (x << 8) | static_cast<unsigned char>(s[i]);
  return x;
}

// A typical durable projection handler: decode the event, then read-modify-write one row per
// stream (its running total).
durable_handler total_per_stream(event_registry& reg, table_id t) {
  return [&reg, t](read_model_txn& tx, const event_view& e) -> status {
    auto ev = reg.decode<incremented>(e.type, e.schema_version, e.payload, e.corrupt);
    if (!ev)
      return std::move(ev).error();
    auto cur = tx.get(t, e.stream_id);
    if (!cur)
      return std::move(cur).error();
    uint64_t total = *cur ? from_be64(**cur) : 0;
    return tx.put(t, e.stream_id, be64(total + static_cast<uint64_t>(ev->by)));
  };
}

// The in-memory model of the benchmarks: a running total per stream.
struct totals {
  std::unordered_map<std::string, int64_t> by_stream;
};

memory_handler<totals> memory_totals(event_registry& reg) {
  return [&reg](totals& m, const event_view& e) -> status {
    auto ev = reg.decode<incremented>(e.type, e.schema_version, e.payload, e.corrupt);
    if (!ev)
      return std::move(ev).error();
    m.by_stream[std::string{e.stream_id}] += ev->by;
    return {};
  };
}

// -- lag -----------------------------------------------------------------------------------

// What one projection recorded during the measured window (written by its own thread only).
struct lag_probe {
  std::string name;
  std::atomic<bool>* recording = nullptr;
  // (position, commit timestamp, handler time) of every event applied while recording.
  std::vector<std::tuple<global_position, timestamp_ns, timestamp_ns>> applied;
  // (position reached, time it was seen), by the waiter thread.
  std::vector<std::pair<global_position, timestamp_ns>> visible;
  void note(const event_view& e) {
    if (recording->load(std::memory_order_relaxed))
      applied.emplace_back(e.position, e.timestamp, now_ns());
  }
};

// When each journal commit became durable: (newest position of the commit, time), in
// position order (written by the journal writer's thread through the after_commit hook).
struct commit_times {
  std::mutex mx;
  std::vector<std::pair<global_position, timestamp_ns>> commits;
  void note(global_position newest) {
    auto t = now_ns();
    std::lock_guard<std::mutex> lock{mx};
    commits.emplace_back(newest, t);
  }
  // The time the commit holding `pos` became durable (0 when unknown).
  timestamp_ns of(global_position pos) const {
    auto i = std::lower_bound(commits.begin(), commits.end(), pos,
                              [](const auto& c, global_position p) { return c.first < p; });
    return i == commits.end() ? 0 : i->second;
  }
};

// Stamps every advance of projection `p.name` until `stop`.
void watch(runtime& rt, lag_probe& p, const std::atomic<bool>& stop) {
  global_position seen = need(rt.projection(p.name), "projection info").position;
  while (!stop.load()) {
    if (!rt.await_projection(p.name, seen + 1, std::chrono::milliseconds(20)))
      continue;
    auto info = rt.projection(p.name);
    auto t = now_ns();
    if (!info || info->position <= seen)
      continue;
    seen = info->position;
    p.visible.emplace_back(seen, t);
  }
}

// Lags in microseconds: `visible_us` from the commit being durable (the issue's "commit ->
// applied"), `since_txn_us` from the commit's transaction beginning (adds the journal's own
// write and fsync), `handler_us` from the commit being durable to the handler running.
struct lag_figures {
  std::vector<double> visible_us;
  std::vector<double> since_txn_us;
  std::vector<double> handler_us;
};

lag_figures lags_of(const lag_probe& p, const commit_times& commits) {
  lag_figures out;
  out.visible_us.reserve(p.applied.size());
  out.since_txn_us.reserve(p.applied.size());
  out.handler_us.reserve(p.applied.size());
  auto us = [](timestamp_ns from, timestamp_ns to) { return static_cast<double>(to - from) / 1e3; };
  std::size_t j = 0;
  for (const auto& [pos, ts, applied_at] : p.applied) {
    auto durable = commits.of(pos);
    while (j < p.visible.size() && p.visible[j].first < pos)
      ++j;
    if (durable == 0 || j == p.visible.size())
      break; // not seen before the watch ended (cannot happen after the final await)
    out.handler_us.push_back(us(durable, applied_at));
    out.visible_us.push_back(us(durable, p.visible[j].second));
    out.since_txn_us.push_back(us(ts, p.visible[j].second));
  }
  return out;
}

// Sends commands at `rate` per second for `seconds` (open loop, at most `cap` in flight).
struct paced_result {
  double seconds = 0;
  uint64_t sent = 0;
  uint64_t errors = 0;
  uint64_t cap_hits = 0;
  std::string first_error;
};

paced_result run_paced(runtime& rt, const std::vector<std::string>& ids, double rate, double seconds,
                       uint64_t seed, std::size_t cap = 8192) {
  // Shared with the reply callbacks, which may in theory outlive this call.
  struct shared {
    std::atomic<uint64_t> in_flight{0}, errors{0};
    std::mutex mx;
    std::condition_variable cv;
    std::string first_error;
  };
  auto sh = std::make_shared<shared>();
  paced_result out;
  auto start = bench_clock::now();
  for (;;) {
    double elapsed = seconds_since(start);
    if (elapsed >= seconds)
      break;
    auto due = static_cast<uint64_t>(elapsed * rate);
    while (out.sent < due) {
      if (sh->in_flight.load() >= cap) {
        ++out.cap_hits;
        break;
      }
      ++sh->in_flight;
      const auto& id = ids[mix(seed + out.sent) % ids.size()];
      ++out.sent;
      rt.send<counter>(id, increment{1}, command_options{}, [sh](command_result r) {
        if (!r && sh->errors.fetch_add(1) == 0) {
          std::lock_guard<std::mutex> guard{sh->mx};
          sh->first_error = r.error().to_string();
        }
        if (sh->in_flight.fetch_sub(1) == 1) {
          std::lock_guard<std::mutex> guard{sh->mx};
          sh->cv.notify_all();
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  out.seconds = seconds_since(start);
  std::unique_lock<std::mutex> lock{sh->mx};
  sh->cv.wait_for(lock, std::chrono::seconds(120), [&] { return sh->in_flight.load() == 0; });
  out.errors = sh->errors.load();
  out.first_error = sh->first_error;
  return out;
}

void run_lag(const options& o, const std::filesystem::path& root, double fsync_us, report& rep) {
  bench_dir dir{root, "lag"};
  commit_times commits;
  auto rt = open_runtime(o, dir.path(), [&commits](global_position p) { commits.note(p); });
  auto& reg = rt->registry();
  std::atomic<bool> recording{false};
  std::vector<std::unique_ptr<lag_probe>> probes;
  auto probe_for = [&](const std::string& name) -> lag_probe& {
    probes.push_back(std::make_unique<lag_probe>());
    probes.back()->name = name;
    probes.back()->recording = &recording;
    probes.back()->applied.reserve(o.quick ? 400000 : 1500000);
    return *probes.back();
  };
  // Two durable projections (one row per stream; one hot row for all) and one in memory.
  {
    auto& p = probe_for("lag_durable_1");
    auto t = need(rt->read_models().table("lag_totals"), "table");
    durable_projection dp;
    dp.options.name = p.name;
    dp.options.filter = event_filter::categories({"counter"});
    dp.tables = {"lag_totals"};
    dp.apply = [inner = total_per_stream(reg, t), &p](read_model_txn& tx, const event_view& e) {
      p.note(e);
      return inner(tx, e);
    };
    need(rt->add_projection(dp), "add durable 1");
  }
  {
    auto& p = probe_for("lag_durable_2");
    auto t = need(rt->read_models().table("lag_count"), "table");
    durable_projection dp;
    dp.options.name = p.name;
    dp.options.filter = event_filter::types({"bench.incremented"});
    dp.tables = {"lag_count"};
    dp.apply = [t, &p](read_model_txn& tx, const event_view& e) -> status {
      p.note(e);
      auto cur = tx.get(t, "count");
      if (!cur)
        return std::move(cur).error();
      return tx.put(t, "count", be64((*cur ? from_be64(**cur) : 0) + 1));
    };
    need(rt->add_projection(dp), "add durable 2");
  }
  {
    auto& p = probe_for("lag_memory");
    memory_projection<totals> mp;
    mp.options.name = p.name;
    mp.options.filter = event_filter::categories({"counter"});
    mp.apply = [inner = memory_totals(reg), &p](totals& m, const event_view& e) {
      p.note(e);
      return inner(m, e);
    };
    need(rt->add_projection(mp), "add memory");
  }
  need(rt->start(), "start");
  auto ids = make_ids(10000);
  auto one = [](std::size_t) { return increment{1}; };
  auto drive = [&](std::size_t total) {
    command_driver<counter, decltype(one)> d{*rt, ids, 1024, total, one};
    auto r = d.run();
    if (r.errors > 0)
      std::cerr << r.errors << " commands failed, first: " << r.first_error << "\n";
    return r;
  };
  auto settle = [&] {
    auto head = need(rt->store().last_position(), "last position");
    for (auto& p : probes)
      need(rt->await_projection(p->name, head, std::chrono::minutes(5)), "projection catch-up");
  };
  drive(20000); // warm-up: every instance live
  settle();
  auto max = drive(o.quick ? 80000 : 300000);
  settle();
  double rate = max.per_s() / 2;
  std::cerr << "W1 maximum with three projections: " << grouped(max.per_s()) << " commands/s; "
            << "lag is measured at " << grouped(rate) << " commands/s\n";

  std::atomic<bool> stop_watch{false};
  std::vector<std::thread> watchers;
  for (auto& p : probes)
    watchers.emplace_back([&, pp = p.get()] { watch(*rt, *pp, stop_watch); });
  // A second of pacing first so that the measured window starts in the steady state.
  (void)run_paced(*rt, ids, rate, 1.0, 1u << 30);
  recording = true;
  auto paced = run_paced(*rt, ids, rate, o.quick ? 5.0 : 20.0, 1u << 31);
  recording = false;
  settle();
  stop_watch = true;
  for (auto& w : watchers)
    w.join();
  if (paced.errors > 0)
    std::cerr << paced.errors << " paced commands failed, first: " << paced.first_error << "\n";
  if (paced.cap_hits > 0)
    std::cerr << "the pacer hit its in-flight cap " << paced.cap_hits << " times\n";
  need(rt->stop(), "stop");

  rep.add("W1_max", "commands_per_s", max.per_s());
  rep.add("lag", "commands_per_s", static_cast<double>(paced.sent) / paced.seconds);
  std::vector<double> all, all_since_txn;
  text_table detail{{"projection", "events", "advances", "events/advance", "visible p50 us",
                     "visible p99 us", "visible max us", "handler p50 us", "handler p99 us"}};
  std::vector<std::pair<std::string, lag_figures>> per;
  for (auto& p : probes) {
    auto f = lags_of(*p, commits);
    all.insert(all.end(), f.visible_us.begin(), f.visible_us.end());
    all_since_txn.insert(all_since_txn.end(), f.since_txn_us.begin(), f.since_txn_us.end());
    // Advances of the position while recording: about one per applied batch (one read-model
    // transaction per batch for the durable ones).
    std::size_t advances = 0;
    if (!p->applied.empty())
      for (auto& [pos, t] : p->visible)
        if (pos >= std::get<0>(p->applied.front()) && pos <= std::get<0>(p->applied.back()))
          ++advances;
    detail.add({p->name, grouped(static_cast<double>(f.visible_us.size())),
                grouped(static_cast<double>(advances)),
                fixed(advances > 0 ? static_cast<double>(f.visible_us.size()) / static_cast<double>(advances) : 0, 1),
                grouped(quantile(f.visible_us, 0.5)), grouped(quantile(f.visible_us, 0.99)),
                grouped(max_of(f.visible_us)), grouped(quantile(f.handler_us, 0.5)),
                grouped(quantile(f.handler_us, 0.99))});
    per.emplace_back(p->name, std::move(f));
  }
  rep.add("lag", "p50_us", quantile(all, 0.5), fsync_us);
  rep.add("lag", "p99_us", quantile(all, 0.99), fsync_us);
  rep.add("lag_since_txn_begin", "p50_us", quantile(all_since_txn, 0.5), fsync_us);
  rep.add("lag_since_txn_begin", "p99_us", quantile(all_since_txn, 0.99), fsync_us);
  for (auto& [name, f] : per) {
    rep.add(name, "p50_us", quantile(f.visible_us, 0.5), fsync_us);
    rep.add(name, "p99_us", quantile(f.visible_us, 0.99), fsync_us);
  }
  detail.print("lag per projection (visible = read-your-writes point; handler = handler ran)");
}

// -- catch-up ------------------------------------------------------------------------------

// Appends `n` counter events over 10,000 streams directly through the store, in big batches.
void prefill(event_store& store, std::size_t n) {
  auto payload = need(to_bytes(incremented{1}), "encode");
  constexpr std::size_t streams = 10000, per_append = 10, per_call = 1000; // 10,000 events a call
  std::size_t done = 0, next_stream = 0;
  while (done < n) {
    std::vector<stream_append> appends;
    for (std::size_t a = 0; a < per_call && done < n; ++a) {
      stream_append sa;
      sa.stream_id = "counter-" + std::to_string(next_stream++ % streams);
      auto k = std::min(per_append, n - done);
      sa.events.assign(k, new_event{"bench.incremented", 1, payload, {}, 0});
      done += k;
      appends.push_back(std::move(sa));
    }
    need(store.append(std::move(appends)), "prefill append");
  }
}

// Events per second of a plain read of the whole log in chunks (no apply).
double read_rate(event_store& store, std::size_t chunk) {
  auto t0 = bench_clock::now();
  uint64_t total = 0;
  global_position after = 0;
  for (;;) {
    uint64_t n = 0;
    need(store.read_all_batch(after, chunk, [&](const std::vector<event_view>& evs) -> status {
           n = evs.size();
           if (n > 0)
             after = evs.back().position;
           return {};
         }),
         "read");
    total += n;
    if (n < chunk)
      break;
  }
  return static_cast<double>(total) / seconds_since(t0);
}

// Seconds from start() until projection `name` is live at `head`.
double time_to_live(runtime& rt, const std::string& name, global_position head) {
  auto t0 = bench_clock::now();
  need(rt.start(), "start");
  need(rt.await_projection(name, head, std::chrono::minutes(10)), "catch-up");
  while (need(rt.projection(name), "info").state != projection_state::live)
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  return seconds_since(t0);
}

void run_catchup(const options& o, const std::filesystem::path& root, report& rep) {
  bench_dir dir{root, "catchup"};
  const std::size_t n = o.quick ? 300000 : 1000000;
  const int rounds = o.rounds > 0 ? o.rounds : o.quick ? 2 : 3;
  global_position head = 0;
  {
    auto rt = open_runtime(o, dir.path());
    auto t0 = bench_clock::now();
    prefill(rt->store(), n);
    head = need(rt->store().last_position(), "last position");
    std::cerr << "pre-filled " << grouped(static_cast<double>(head)) << " events in "
              << fixed(seconds_since(t0), 1) << " s\n";
    need(rt->stop(), "stop");
  }
  std::vector<double> raw, lmdb, memory;
  for (int round = 0; round < rounds; ++round) {
    {
      // Baseline: the same log read in the projection's chunks, nothing applied.
      auto rt = open_runtime(o, dir.path());
      raw.push_back(read_rate(rt->store(), projection_options{}.chunk_events));
      need(rt->stop(), "stop");
    }
    {
      auto rt = open_runtime(o, dir.path());
      auto name = "catchup_lmdb_" + std::to_string(round);
      auto t = need(rt->read_models().table(name), "table");
      durable_projection dp;
      dp.options.name = name;
      dp.tables = {name};
      dp.apply = total_per_stream(rt->registry(), t);
      need(rt->add_projection(dp), "add durable");
      lmdb.push_back(static_cast<double>(head) / time_to_live(*rt, name, head));
      need(rt->stop(), "stop");
    }
    {
      auto rt = open_runtime(o, dir.path());
      memory_projection<totals> mp;
      mp.options.name = "catchup_memory";
      mp.apply = memory_totals(rt->registry());
      auto sink = need(rt->add_projection(mp), "add memory");
      memory.push_back(static_cast<double>(head) / time_to_live(*rt, "catchup_memory", head));
      auto streams = sink->read([](const totals& m) { return m.by_stream.size(); });
      if (streams != 10000)
        die("the in-memory model has " + std::to_string(streams) + " streams, not 10000");
      need(rt->stop(), "stop");
    }
    std::cerr << "round " << round << ": read " << grouped(raw.back()) << ", lmdb "
              << grouped(lmdb.back()) << ", memory " << grouped(memory.back()) << " events/s\n";
  }
  rep.add("read_log", "events_per_s", median(raw));
  rep.add("catchup_lmdb", "events_per_s", median(lmdb), median(raw));
  rep.add("catchup_memory", "events_per_s", median(memory), median(raw));
}

} // namespace

int main(int argc, char** argv) {
  auto o = parse(argc, argv);
  bench_dir root{o.dir, "annal-projections-bench"};
  if (!root.ok())
    die(root.error());
  auto probe = fsync_probe(root.path());
  env_line(o.no_sync ? "no_sync" : "durable")
    .num("fsync_us", probe.median_us, 1)
    .num("fsync_p99_us", probe.p99_us, 1)
    .num("fsync_per_s", probe.per_s, 0)
    .str("fs", fs_type(root.path()))
    .boolean("quick", o.quick)
    .print();
  report rep;
  if (o.wants("catchup"))
    run_catchup(o, root.path(), rep);
  if (o.wants("lag"))
    run_lag(o, root.path(), probe.median_us, rep);
  rep.table.print("projections");
  return 0;
}
