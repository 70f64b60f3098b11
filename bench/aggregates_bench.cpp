// Write-path benchmark of the runtime (issue: aggregate actors). Workloads:
//   W1 / W1_64     10,000 aggregates, 1,024 (64) commands in flight, small events, durable
//   W2_pipelined   one aggregate, one caller, 64 commands in flight
//   W2_single      one aggregate, one command in flight: latency vs the raw fsync latency
//   W3_snapshot    rehydrate an aggregate of 1,000,000 events from a snapshot
//   W3_replay      the same by full replay
//   W4             1,000,000 distinct aggregates touched, at most 100,000 live: peak RSS
//                  (with --events N: the growth curve over those 1,000,000 aggregates)
// Output: JSON lines on stdout (bench-format.md), tables on stderr.
//
//   aggregates_bench [--quick] [--dir PATH] [--no-sync] [--only W1,W3,...] [--events N]
//
// --events N: W1 / W1_64 write N events (one per command) into a fresh store and print the
// growth curve: the rate of each tenth of the run as a JSON line (metric "curve"), the
// rates of the first and last 20 % and their ratio, the same for the process's CPU per
// command (first over last, so that 1 is flat here too), peak RSS (VmHWM, which counts the
// journal's mapped file pages; and anonymous memory alone) and the map's size. With
// --events, --only W1 runs W1 alone (W1_64 with --only W1_64; W4 with --only W4 runs its curve).
// --snapshot-every N: the counters snapshot every N events (default 500: W4's counters,
// with ~11 events each at the end, never do). --kept-state-mib N: the bytes of passivated
// states each aggregate type keeps (aggregate_options::passivated_state_bytes; default 64).
// --initial-map-mib N: the journal's initial map (runtime_config::initial_map_size; default
// 64): a map as large as the run's store never grows, which shows what its growths cost.
#include <atomic>
#include <cstring>
#include <iostream>
#include <optional>
#include <vector>

#include "annal/aggregate_host.hpp"
#include "support/bench_dir.hpp"
#include "support/bench_output.hpp"
#include "support/command_driver.hpp"
#include "support/counter_aggregate.hpp"
#include "support/fsync_probe.hpp"
#include "support/process_memory.hpp"
#include "support/raw_lmdb_journal.hpp"
#include "support/runtime_bench_options.hpp"
#include "support/stats.hpp"

using namespace annal;
using namespace annal::bench;

namespace {

struct options : runtime_bench_options {
  std::size_t w1_commands = 0; // 0: by mode
  std::size_t events = 0;      // > 0: W1 growth curve over this many events
  uint64_t snapshot_every = 0; // > 0: the counters' aggregate_options::snapshot_every
  std::optional<std::size_t> kept_state_mib; // aggregate_options::passivated_state_bytes
  std::optional<std::size_t> initial_map_mib; // runtime_config::initial_map_size
};

options parse(int argc, char** argv) {
  options o;
  parse_runtime_bench_options(
    argc, argv, o,
    "aggregates_bench [--quick] [--dir PATH] [--no-sync] [--only W1,W2,W3,W4] "
    "[--w1-commands N] [--events N] [--snapshot-every N] [--kept-state-mib N] [--initial-map-mib N] "
    "[--caf --opt=value]...",
    [&](const std::string& a, const std::string& v) {
      if (a == "--events") {
        o.events = std::stoul(v);
        return true;
      }
      if (a == "--snapshot-every") {
        o.snapshot_every = std::stoul(v);
        return true;
      }
      if (a == "--kept-state-mib") {
        o.kept_state_mib = std::stoul(v);
        return true;
      }
      if (a == "--initial-map-mib") {
        o.initial_map_mib = std::stoul(v);
        return true;
      }
      if (a != "--w1-commands")
        return false;
      o.w1_commands = std::stoul(v);
      return true;
    });
  return o;
}

// How long the journal's group commits take inside the store (the writer's before- and
// after-commit hooks, on its thread), recorded while `on`; read once the runtime stopped.
// Exact, unlike journal_metrics::commit_durations, whose 1-2-5 buckets are as wide as
// the differences W2 looks for (200–500 µs is one bucket).
struct commit_timing {
  std::atomic<bool> on{false};
  bench_clock::time_point began;
  std::vector<double> us;
};

std::unique_ptr<runtime> open_runtime(const options& o, const std::filesystem::path& dir,
                                      aggregate_options agg = {}, commit_timing* timing = nullptr) {
  runtime_config cfg;
  cfg.data_dir = dir;
  cfg.mode = o.no_sync ? durability::no_sync : durability::durable;
  cfg.caf_args = o.caf_args;
  if (o.initial_map_mib)
    cfg.initial_map_size = *o.initial_map_mib << 20;
  if (timing) {
    cfg.writer.before_commit = [timing](const write_batch&) -> status {
      timing->began = bench_clock::now();
      return {};
    };
    cfg.writer.after_commit = [timing](global_position) {
      if (timing->on)
        timing->us.push_back(seconds_since(timing->began) * 1e6);
    };
  }
  if (o.snapshot_every > 0)
    agg.snapshot_every = o.snapshot_every;
  if (o.kept_state_mib)
    agg.passivated_state_bytes = *o.kept_state_mib << 20;
  auto rt = runtime::open(cfg);
  if (!rt) {
    std::cerr << "cannot open runtime: " << rt.error().to_string() << "\n";
    std::exit(1);
  }
  if (auto ok = (*rt)->register_aggregate<counter>(agg); !ok) {
    std::cerr << ok.error().to_string() << "\n";
    std::exit(1);
  }
  (void)(*rt)->start();
  return std::move(*rt);
}

auto one_increment = [](std::size_t) { return increment{1}; };

drive_result drive(runtime& rt, const std::vector<std::string>& ids, std::size_t in_flight,
                   std::size_t total, bool sequential = false, std::size_t first = 0) {
  command_driver<counter, decltype(one_increment)> d{rt, ids, in_flight, total, one_increment, sequential, first};
  auto r = d.run();
  if (r.errors > 0)
    std::cerr << r.errors << " commands failed, first: " << r.first_error << "\n";
  return r;
}

// The durable append rate of plain LMDB for batches of `batch` events of `bytes` bytes.
double raw_append_rate(const std::filesystem::path& dir, std::size_t batch, std::size_t bytes,
                       bool no_sync, double seconds) {
  raw_lmdb_journal raw{dir, no_sync};
  if (!raw.ok())
    return 0;
  std::string value(bytes, 'x');
  std::size_t events = 0;
  auto start = bench_clock::now();
  while (seconds_since(start) < seconds) {
    if (!raw.append_batch(batch, value))
      return 0;
    events += batch;
  }
  return static_cast<double>(events) / seconds_since(start);
}

struct report {
  text_table table{{"case", "metric", "value", "baseline", "ratio"}};
  void add(const std::string& c, const std::string& metric, double value,
           double baseline = -1, bool latency = false) {
    json_line l;
    l.str("bench", "aggregates").str("case", c).str("metric", metric).num("value", value, 3);
    std::string b = "", r = "";
    if (baseline > 0) {
      double ratio = value / baseline;
      l.num("baseline", baseline, 1).num("ratio", ratio, 3);
      b = grouped(baseline, 1);
      r = fixed(ratio, 3);
    }
    (void)latency;
    l.print();
    table.add({c, metric, grouped(value, 1), b, r});
  }
};

// Resident anonymous memory (heap, stacks) in MiB: RSS without the mapped journal file.
double anon_mib() { return static_cast<double>(proc_status_kib("RssAnon")) / 1024.0; }

// The growth curve: N events into a fresh store, timed per tenth (each tenth is one drive,
// so the pipeline drains between tenths: 1,024 commands of 100,000+ per tenth), over
// `aggregates` ids picked pseudo-randomly (W4_curve: 1,000,000 of them, at most
// agg.max_live live, so most commands load a passivated instance first; each of them
// gets one command before the timed tenths, which then write N events more).
void run_w1_curve(const options& o, const std::filesystem::path& root, std::size_t in_flight,
                  const std::string& name, report& rep, std::size_t aggregates = 10000,
                  aggregate_options agg = {}) {
  bench_dir dir{root, name};
  auto rt = open_runtime(o, dir.path(), agg);
  auto ids = make_ids(aggregates);
  if (aggregates > 10000) {
    // Every aggregate exists before the clock starts (one command each, in order): else
    // the first tenths only create aggregates (a load of an empty stream, no passivation
    // yet) and the curve measures the live set filling up, not the store growing.
    auto warm = drive(*rt, ids, in_flight, aggregates, true);
    json_line l;
    l.str("bench", "aggregates").str("case", name).str("metric", "warm_up")
      .num("commands", static_cast<double>(aggregates), 0).num("commands_per_s", warm.per_s(), 1);
    l.print();
  }
  std::vector<double> rates, cpu_us;
  std::size_t done = 0;
  double anon_peak = 0; // heap and other anonymous memory, sampled after each tenth
  for (int tenth = 0; tenth < 10; ++tenth) {
    std::size_t n = o.events * static_cast<std::size_t>(tenth + 1) / 10 - done;
    auto r = drive(*rt, ids, in_flight, n, false, done);
    done += n;
    rates.push_back(r.per_s());
    cpu_us.push_back(r.cpu_us_per_command());
    json_line l;
    l.str("bench", "aggregates").str("case", name).str("metric", "curve")
      .num("tenth", tenth + 1, 0).num("events_written", static_cast<double>(done), 0)
      .num("commands_per_s", r.per_s(), 1).num("cpu_us_per_command", cpu_us.back(), 2)
      .num("rss_mb", rss_mib(), 1)
      .num("rss_anon_mb", anon_mib(), 1);
    // The map's growths, each a remap of the whole store. Read from LMDB itself: stats()
    // lists the unmerged streams, whose transient memory would show in rss_anon_mb.
    if (auto* env = static_cast<MDB_env*>(rt->store().native_handle())) {
      MDB_envinfo info;
      if (mdb_env_info(env, &info) == 0)
        l.num("map_mb", static_cast<double>(info.me_mapsize) / 1048576.0, 0);
    }
    l.print();
    anon_peak = std::max(anon_peak, anon_mib());
  }
  (void)rt->stop();
  rt.reset();
  double first = 2.0 / (1.0 / rates[0] + 1.0 / rates[1]);
  double last = 2.0 / (1.0 / rates[8] + 1.0 / rates[9]);
  rep.add(name, "first_20pct_per_s", first);
  rep.add(name, "last_20pct_per_s", last);
  rep.add(name, "last_over_first", last / first);
  // The same growth as CPU per command: on a shared machine the rates move with the other
  // tenants, the CPU a command costs much less.
  double cpu_first = (cpu_us[0] + cpu_us[1]) / 2, cpu_last = (cpu_us[8] + cpu_us[9]) / 2;
  rep.add(name, "cpu_us_first_20pct", cpu_first);
  rep.add(name, "cpu_us_last_20pct", cpu_last);
  rep.add(name, "cpu_first_over_last", cpu_last > 0 ? cpu_first / cpu_last : 0);
  rep.add(name, "peak_rss_mb", peak_rss_mib()); // includes the journal's mapped pages
  rep.add(name, "peak_rss_anon_mb", anon_peak);
  store_options so;
  so.dir = dir.path() / "journal";
  so.read_only = true;
  if (auto store = event_store::open(so)) {
    if (auto st = (*store)->stats()) {
      rep.add(name, "map_size_mb", static_cast<double>(st->map_size) / 1048576.0);
      rep.add(name, "map_used_mb", static_cast<double>(st->map_used) / 1048576.0);
      rep.add(name, "events_in_store", static_cast<double>(st->events));
    }
  }
}

void run_w1(const options& o, const std::filesystem::path& root, std::size_t in_flight,
            const std::string& name, report& rep) {
  if (o.events > 0)
    return run_w1_curve(o, root, in_flight, name, rep);
  bench_dir dir{root, name};
  auto rt = open_runtime(o, dir.path());
  auto ids = make_ids(10000);
  std::size_t total = o.w1_commands > 0 ? o.w1_commands : o.quick ? 150000 : 600000;
  drive(*rt, ids, in_flight, std::min<std::size_t>(20000, total)); // warm up: instances live
  auto commits0 = rt->metrics().commits.load();
  auto events0 = rt->metrics().events_written.load();
  auto r = drive(*rt, ids, in_flight, total);
  auto commits = rt->metrics().commits.load() - commits0;
  auto events = rt->metrics().events_written.load() - events0;
  (void)rt->stop();
  double batch = commits > 0 ? static_cast<double>(events) / static_cast<double>(commits) : 1;
  // The disk's limit for this batch size: plain LMDB appends of batches as large as the
  // runtime's group commits turned out, each event the size of one stored envelope.
  bench_dir raw_dir{root, name + "-raw"};
  double raw = raw_append_rate(raw_dir.path(), std::max<std::size_t>(1, static_cast<std::size_t>(batch)),
                               100, o.no_sync, o.quick ? 1.0 : 3.0);
  rep.add(name, "commands_per_s", r.per_s(), raw);
  rep.add(name, "p50_us", quantile(r.latencies_us, 0.5));
  rep.add(name, "p99_us", quantile(r.latencies_us, 0.99));
  rep.add(name, "events_per_commit", batch);
  rep.add(name, "cpu_us_per_command", r.cpu_us_per_command());
}

void run_w2(const options& o, const std::filesystem::path& root, double fsync_us, report& rep) {
  bench_dir dir{root, "W2"};
  commit_timing timing;
  auto rt = open_runtime(o, dir.path(), {}, &timing);
  std::vector<std::string> one{"hot"};
  drive(*rt, one, 64, 2000);
  auto p = drive(*rt, one, 64, o.quick ? 40000 : 150000);
  rep.add("W2_pipelined", "commands_per_s", p.per_s());
  rep.add("W2_pipelined", "p99_us", quantile(p.latencies_us, 0.99));
  timing.on = true;
  auto s = drive(*rt, one, 1, o.quick ? 2000 : 8000);
  timing.on = false;
  (void)rt->stop();
  rep.add("W2_single", "commands_per_s", s.per_s());
  rep.add("W2_single", "p50_us", quantile(s.latencies_us, 0.5), fsync_us, true);
  rep.add("W2_single", "p99_us", quantile(s.latencies_us, 0.99));
  // The same commands' commits inside the store: W2_single minus this is the time spent
  // outside it (messages, thread wake-ups, deciding), beside the floor below.
  rep.add("W2_single_store_commit", "p50_us", quantile(timing.us, 0.5), fsync_us, true);
  // The floor under W2_single: one durable plain-LMDB commit of one event. LMDB syncs
  // twice per commit (data pages, then the meta page), so it costs more than one fsync.
  bench_dir raw_dir{root, "W2-raw"};
  raw_lmdb_journal raw{raw_dir.path(), o.no_sync};
  std::string value(100, 'x');
  std::vector<double> commit_us;
  for (int i = 0; i < (o.quick ? 1000 : 4000); ++i) {
    auto t0 = bench_clock::now();
    if (!raw.append_batch(1, value))
      break;
    commit_us.push_back(seconds_since(t0) * 1e6);
  }
  rep.add("W2_single_lmdb_floor", "p50_us", quantile(commit_us, 0.5), fsync_us, true);
}

void run_w3(const options& o, const std::filesystem::path& root, report& rep) {
  bench_dir dir{root, "W3"};
  auto rt = open_runtime(o, dir.path());
  auto& store = rt->store();
  const std::size_t n = o.quick ? 300000 : 1000000;
  const std::string stream = "counter-big";
  std::string payload = to_bytes(incremented{1}).value();
  for (std::size_t done = 0; done < n;) {
    std::vector<new_event> batch(std::min<std::size_t>(10000, n - done),
                                 new_event{"bench.incremented", 1, payload, {}, 0});
    done += batch.size();
    if (auto ok = store.append(stream, expected_version::any(), std::move(batch)); !ok) {
      std::cerr << ok.error().to_string() << "\n";
      std::exit(1);
    }
  }
  // Baseline: walking the same stream without decoding or evolving.
  std::vector<double> raw_rates, replay_rates, snap_ms;
  for (int round = 0; round < 3; ++round) {
    auto t0 = bench_clock::now();
    uint64_t seen = 0;
    for (stream_version from = 1; from <= n;) {
      auto c = store.read_stream(stream, stream_range{from, n, 8192}, [&](const event_view&) {
        ++seen;
        return true;
      });
      if (!c || *c == 0)
        break;
      from += *c;
    }
    raw_rates.push_back(static_cast<double>(seen) / seconds_since(t0));
    t0 = bench_clock::now();
    auto full = detail::load_aggregate<counter>(store, rt->registry(), stream, {}, 128, false);
    replay_rates.push_back(static_cast<double>(n) / seconds_since(t0));
    if (!full || full->state.count != n) {
      std::cerr << "replay produced a wrong state\n";
      std::exit(1);
    }
  }
  auto state = detail::load_aggregate<counter>(store, rt->registry(), stream, {}, 128, false).value();
  detail::snapshot_payload<counter> sp{state.state, {}};
  (void)store.save_snapshot(snapshot_record{stream, n, 0, aggregate_traits<counter>::snapshot_type(),
                                            1, to_bytes(sp).value()});
  for (int round = 0; round < 20; ++round) {
    auto t0 = bench_clock::now();
    auto s = detail::load_aggregate<counter>(store, rt->registry(), stream, {}, 128, true);
    snap_ms.push_back(seconds_since(t0) * 1000);
    if (!s || s->state.count != n || s->snapshot_version != n) {
      std::cerr << "snapshot load produced a wrong state\n";
      std::exit(1);
    }
  }
  (void)rt->stop();
  rep.add("W3_snapshot", "ms", median(snap_ms));
  rep.add("W3_replay", "events_per_s", median(replay_rates), median(raw_rates));
}

void run_w4(const options& o, const std::filesystem::path& root, report& rep) {
  if (o.events > 0) {
    aggregate_options agg;
    agg.max_live = 100000;
    return run_w1_curve(o, root, 1024, "W4_curve", rep, 1000000, agg);
  }
  bench_dir dir{root, "W4"};
  std::size_t touched = o.quick ? 200000 : 1000000;
  std::size_t live = o.quick ? 20000 : 100000;
  aggregate_options agg;
  agg.max_live = live;
  auto rt = open_runtime(o, dir.path(), agg);
  auto ids = make_ids(touched);
  // Memory of idle instances: activate `live` instances with one command each, then
  // compare anonymous memory (heap; the journal's mapped file pages are not counted).
  auto anon0 = proc_status_kib("RssAnon");
  drive(*rt, ids, 1024, live, true);
  auto anon1 = proc_status_kib("RssAnon");
  double per_instance = static_cast<double>(anon1 - anon0) * 1024.0 / static_cast<double>(live);
  auto r = drive(*rt, ids, 1024, touched, true);
  (void)rt->stop();
  rep.add("W4", "rss_mb", peak_rss_mib());
  rep.add("W4", "bytes_per_instance", per_instance);
  rep.add("W4", "commands_per_s", r.per_s());
}

} // namespace

int main(int argc, char** argv) {
  auto o = parse(argc, argv);
  bench_dir root{o.dir, "annal-aggregates-bench"};
  if (!root.ok()) {
    std::cerr << root.error() << "\n";
    return 1;
  }
  auto probe = fsync_probe(root.path());
  env_line(o.no_sync ? "no_sync" : "durable")
    .num("fsync_us", probe.median_us, 1)
    .num("fsync_per_s", probe.per_s, 0)
    .str("fs", fs_type(root.path()))
    .boolean("quick", o.quick)
    .print();
  report rep;
  if (o.wants("W1"))
    run_w1(o, root.path(), 1024, "W1", rep);
  if (o.wants("W1_64") || (o.wants("W1") && o.events == 0))
    run_w1(o, root.path(), 64, "W1_64", rep);
  if (o.wants("W2"))
    run_w2(o, root.path(), probe.median_us, rep);
  if (o.wants("W3"))
    run_w3(o, root.path(), rep);
  if (o.wants("W4"))
    run_w4(o, root.path(), rep);
  rep.table.print("aggregates");
  return 0;
}
