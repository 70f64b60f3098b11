// journal_bench: throughput of Annal's LMDB event journal against raw LMDB.
//
//   journal_bench [--quick] [--no-sync] [--dir PATH] [--keep] [--only PREFIX]
//
// Cases (bench "journal"; line format: the shared bench-format.md):
//   append_batch_{1,10,100,1000}  events_per_s of ONE event_store::append call per batch of
//       200-byte events, round-robin over 100 streams with expected_version::any().
//       Baseline: raw LMDB, one transaction per batch of MDB_APPEND puts of the same 200
//       bytes under 8-byte big-endian keys, same durability. Raw and Annal batches
//       alternate one by one in several timed rounds; the medians are reported.
//   read_stream / read_stream_owned  one stream of 1,000,000 events (--quick: 200,000)
//       read forward in pages of 10,000 through the zero-copy visitor overload (decoded
//       event_views) and through the vector<recorded_event> overload (owned copies).
//   read_log / read_log_owned  the same events through the global log (read_all) from
//       position 0, pages of 10,000.
//       Baseline of the reads: a plain LMDB cursor walk over as many raw journal records,
//       in the same pages of one read transaction each.
//   reopen_tail  the cost of the deferred index's recovery: a child process appends
//       262,143 one-event appends (10,000 streams, group commits of 512) with no index
//       merge and is killed (SIGKILL); metric open_ms = opening the store, which indexes
//       that tail from the events' headers; merge_ms = merging it into stream_index.
//   read_shard  one shard's catch-up (event_store::read_shard, pages of 1000, each resumed
//       from the previous one's next_hint: one pass over the log) from a log of read_events
//       one-event appends round-robin over 10,000 streams in 64 shards; three passes, the
//       median: catch_up_ms, and scan_events_per_s = log events / that time (the other
//       shards' events are only header-checked).
//   trimmed_streams  what a shard move's records pass costs: a store of read_events / 2
//       streams of one event each (64 shards), one in 1,000 deleted; lists shard 0's deleted
//       and truncated streams through the journal's index (indexed_ms, list_trimmed_streams)
//       and, as the baseline, through a filter of every stream record (scan_ms, the
//       contract's default: what every move paid before the index); medians of three.
//   births  commits into a store of read_events / 5 streams (fill without sync), each of 32
//       one-event appends: 8 to new streams (hashed ids: random keys) and 24 to existing
//       ones, for segment_seconds x 4 (same durability as the run): commits_per_s, against
//       the raw fsync rate measured at start (baseline). What a new stream costs a commit.
//   fsync_after_appends  (durable runs) p50_us of the raw fsync probe repeated after the
//       appends, baseline = the probe at start: a ratio far from 1 means the disk changed
//       speed (e.g. a VM disk throttled) and the durable append ratios are unreliable.
//
// stdout: the env line, then one JSON line per figure. stderr: progress and tables.
// Everything is written to a fresh folder on a real disk (see --dir), removed at the end.
#include <lmdb.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "annal/event_store.hpp"
#include "support/bench_dir.hpp"
#include "support/bench_output.hpp"
#include "support/fsync_probe.hpp"
#include "support/raw_lmdb_journal.hpp"
#include "support/stats.hpp"

namespace {

using namespace annal;
using namespace annal::bench;

// A fatal error: reported on stderr by main, which then removes the scratch folder.
struct bench_failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(const std::string& what) {
  throw bench_failure{what};
}

// Set by SIGINT / SIGTERM; the measuring loops then stop through fail(), so that the
// scratch folder is still removed.
volatile std::sig_atomic_t stop_requested = 0;

extern "C" void request_stop(int) {
  stop_requested = 1;
}

void check_stop() {
  if (stop_requested != 0)
    fail("interrupted");
}

// Prints a result line; a closed stdout (e.g. piped into `head`) ends the run cleanly.
void emit(const json_line& line) {
  line.print();
  if (!std::cout)
    fail("stdout is closed");
}

struct cli_options {
  bool quick = false;
  bool no_sync = false;
  bool keep = false;
  std::filesystem::path dir;
  std::string only;  // run only the cases whose names start with this (for profiling)

  bool selected(std::string_view case_name) const {
    return case_name.substr(0, only.size()) == only;
  }
};

// How much work a run does: --quick (under a minute) or full (steadier figures).
struct run_plan {
  int append_rounds;            // measured rounds per batch size
  double segment_seconds;       // time each side spends appending in one round
  uint64_t segment_max_events;  // cap per side and round: bounds the bytes written (a VM's
                                // disk may throttle once a burst budget is spent)
  uint64_t read_events;         // events in the read stream
  int read_rounds;              // passes of each read variant
};

constexpr run_plan quick_plan{5, 0.25, 50'000, 200'000, 3};
constexpr run_plan full_plan{9, 1.0, 150'000, 1'000'000, 5};

constexpr std::size_t payload_size = 200;
constexpr std::size_t stream_count = 100;
constexpr uint64_t read_page = 10'000;
constexpr std::string_view event_type = "BenchEvent";
constexpr std::string_view read_stream_id = "reader-0";

void usage(std::ostream& os) {
  os << "usage: journal_bench [--quick] [--no-sync] [--dir PATH] [--keep] [--only PREFIX]\n"
        "  --quick     smaller run, finishes in under a minute\n"
        "  --no-sync   durability::no_sync (MDB_NOSYNC) for Annal and the raw baseline\n"
        "  --dir PATH  parent folder of the scratch folder (default /var/tmp; must be a\n"
        "              real disk for durable figures)\n"
        "  --keep      leave the scratch folder behind\n"
        "  --only PREFIX  run only the cases whose names start with PREFIX (profiling)\n";
}

cli_options parse_cli(int argc, char** argv) {
  cli_options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--quick") {
      o.quick = true;
    } else if (a == "--no-sync") {
      o.no_sync = true;
    } else if (a == "--keep") {
      o.keep = true;
    } else if (a == "--dir" && i + 1 < argc) {
      o.dir = argv[++i];
    } else if (a.rfind("--dir=", 0) == 0) {
      o.dir = std::string{a.substr(6)};
    } else if (a == "--only" && i + 1 < argc) {
      o.only = argv[++i];
    } else if (a == "--help" || a == "-h") {
      usage(std::cout);
      std::exit(0);
    } else {
      std::cerr << "journal_bench: unknown argument '" << a << "'\n";
      usage(std::cerr);
      std::exit(2);
    }
  }
  return o;
}

// 200 bytes that do not compress to nothing.
std::string make_payload() {
  std::string p(payload_size, '\0');
  uint32_t x = 2463534242u;
  for (auto& c : p) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>('a' + x % 26);
  }
  return p;
}

std::vector<new_event> make_batch(std::size_t n, const std::string& payload) {
  new_event e;
  e.type = std::string{event_type};
  e.schema_version = 1;
  e.payload = payload;
  return std::vector<new_event>(n, e);
}

std::unique_ptr<event_store> open_store(const std::filesystem::path& dir, durability mode) {
  store_options o;
  o.dir = dir;
  o.mode = mode;
  auto s = event_store::open(o);
  if (!s)
    fail("open event store in " + dir.string() + ": " + s.error().to_string());
  return std::move(*s);
}

// -- appends ----------------------------------------------------------------------------

// One side of an append round: events written and time spent inside the append calls.
struct side {
  uint64_t events = 0;
  uint64_t batches = 0;
  double seconds = 0;
  double rate() const { return seconds > 0 ? static_cast<double>(events) / seconds : 0; }
  double ms_per_batch() const { return batches > 0 ? seconds * 1e3 / static_cast<double>(batches) : 0; }
};

// Writes one batch through Annal: ONE event_store::append of a copy of `tmpl` to the next
// stream. Copying the batch into the vector handed to append() is not timed.
void annal_batch(event_store& store, const std::vector<new_event>& tmpl,
                 const std::vector<std::string>& streams, std::size_t& next_stream, side& s) {
  check_stop();
  std::vector<new_event> batch = tmpl;
  const auto& id = streams[next_stream++ % streams.size()];
  auto t0 = bench_clock::now();
  auto res = store.append(id, expected_version::any(), std::move(batch));
  s.seconds += seconds_since(t0);
  if (!res)
    fail("append to " + id + ": " + res.error().to_string());
  s.events += tmpl.size();
  ++s.batches;
}

// Writes one batch to the raw journal: one transaction of MDB_APPEND puts.
void raw_batch(raw_lmdb_journal& raw, std::size_t batch, const std::string& payload, side& s) {
  check_stop();
  auto t0 = bench_clock::now();
  bool ok = raw.append_batch(batch, payload);
  s.seconds += seconds_since(t0);
  if (!ok)
    fail("raw append: " + raw.error());
  s.events += batch;
  ++s.batches;
}

struct compared_case {
  std::string name;
  std::vector<double> value_rounds;     // Annal, events/s per round
  std::vector<double> baseline_rounds;  // raw LMDB, events/s per round
  std::vector<double> value_batch_ms;   // Annal, mean ms per batch per round (appends)
  std::vector<double> baseline_batch_ms;
  bool disk_throttled = false;          // see check_disk_weather

  double value() const { return median(value_rounds); }
  double baseline() const { return median(baseline_rounds); }
  double ratio() const { return baseline() > 0 ? value() / baseline() : 0; }
  std::vector<double> round_ratios() const {
    std::vector<double> r;
    for (std::size_t i = 0; i < value_rounds.size() && i < baseline_rounds.size(); ++i)
      r.push_back(baseline_rounds[i] > 0 ? value_rounds[i] / baseline_rounds[i] : 0);
    return r;
  }

  void print_json() const {
    emit(json_line{}
           .str("bench", "journal")
           .str("case", name)
           .str("metric", "events_per_s")
           .num("value", value())
           .num("baseline", baseline())
           .num("ratio", ratio(), 3));
  }
};

std::vector<compared_case> run_appends(const run_plan& plan, const cli_options& cli,
                                       const std::filesystem::path& root, durability mode) {
  auto store = open_store(root / "journal", mode);
  raw_lmdb_journal raw{root / "raw_append", cli.no_sync};
  if (!raw.ok())
    fail(raw.error());
  const auto payload = make_payload();
  std::vector<std::string> streams;
  for (std::size_t i = 0; i < stream_count; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "bench-%03zu", i);
    streams.emplace_back(id);
  }
  std::size_t next_stream = 0;
  uint64_t annal_events = 0;

  std::vector<compared_case> cases;
  for (std::size_t batch : {std::size_t{1}, std::size_t{10}, std::size_t{100}, std::size_t{1000}}) {
    compared_case c;
    c.name = "append_batch_" + std::to_string(batch);
    if (!cli.selected(c.name))
      continue;
    std::cerr << "journal_bench: " << c.name << " (" << plan.append_rounds << " rounds of "
              << plan.segment_seconds << " s per side, raw and Annal batches alternating)\n";
    const auto tmpl = make_batch(batch, payload);
    // One round: raw and Annal batches strictly alternate (which goes first alternates
    // too), so that both sides see the same disk weather; the round ends when each side
    // has spent its time budget (or written its event cap). The first round warms up
    // (file growth, page cache, stream heads) and is not counted.
    for (int round = -1; round < plan.append_rounds; ++round) {
      double budget = round < 0 ? plan.segment_seconds / 5 : plan.segment_seconds;
      uint64_t cap = round < 0 ? plan.segment_max_events / 5 : plan.segment_max_events;
      side a, b;
      for (uint64_t i = 0; (a.seconds < budget || b.seconds < budget) && a.events < cap; ++i) {
        if (i % 2 == 0) {
          raw_batch(raw, batch, payload, b);
          annal_batch(*store, tmpl, streams, next_stream, a);
        } else {
          annal_batch(*store, tmpl, streams, next_stream, a);
          raw_batch(raw, batch, payload, b);
        }
      }
      annal_events += a.events;
      if (round < 0)
        continue;
      c.value_rounds.push_back(a.rate());
      c.baseline_rounds.push_back(b.rate());
      c.value_batch_ms.push_back(a.ms_per_batch());
      c.baseline_batch_ms.push_back(b.ms_per_batch());
    }
    c.print_json();
    cases.push_back(std::move(c));
  }
  // Sanity: every acknowledged event is in the log.
  auto last = store->last_position();
  if (!last || *last != annal_events)
    fail("journal holds " + (last ? std::to_string(*last) : last.error().to_string())
         + " events, expected " + std::to_string(annal_events));
  return cases;
}

// -- reads ------------------------------------------------------------------------------

// What a reader does with an event: touch the fields it would use, so nothing is
// optimized away, and count damaged ones.
struct read_sink {
  uint64_t events = 0;
  uint64_t bytes = 0;
  uint64_t corrupt = 0;
  uint64_t last = 0;  // version (stream reads) or position (log reads) of the last event

  void expect(uint64_t n, const char* what) const {
    if (events != n || corrupt != 0)
      fail(std::string{what} + ": read " + std::to_string(events) + " events ("
           + std::to_string(corrupt) + " corrupt), expected " + std::to_string(n));
  }
};

double raw_walk_pass(raw_lmdb_journal& raw, uint64_t n) {
  read_sink s;
  auto t0 = bench_clock::now();
  uint64_t next = 1;
  while (s.events < n) {
    auto got = raw.walk(next, std::min(read_page, n - s.events),
                        [&](uint64_t key, std::string_view v) {
                          ++s.events;
                          s.bytes += v.size() + static_cast<unsigned char>(v[0]);
                          s.last = key;
                        });
    if (got < 0)
      fail("raw walk: " + raw.error());
    if (got == 0)
      break;
    next = s.last + 1;
  }
  double secs = seconds_since(t0);
  s.expect(n, "raw walk");
  return static_cast<double>(n) / secs;
}

double read_stream_view_pass(event_store& store, uint64_t n) {
  read_sink s;
  const event_visitor visit = [&s](const event_view& e) {
    ++s.events;
    s.bytes += e.payload.size() + static_cast<unsigned char>(e.payload[0]);
    s.corrupt += e.corrupt ? 1 : 0;
    s.last = e.version;
    return true;
  };
  auto t0 = bench_clock::now();
  while (s.events < n) {
    stream_range range;
    range.from = s.last + 1;
    range.max_count = read_page;
    auto got = store.read_stream(read_stream_id, range, visit);
    if (!got)
      fail("read_stream: " + got.error().to_string());
    if (*got == 0)
      break;
  }
  double secs = seconds_since(t0);
  s.expect(n, "read_stream");
  return static_cast<double>(n) / secs;
}

double read_stream_owned_pass(event_store& store, uint64_t n) {
  read_sink s;
  auto t0 = bench_clock::now();
  while (s.events < n) {
    stream_range range;
    range.from = s.last + 1;
    range.max_count = read_page;
    auto got = store.read_stream(read_stream_id, range);
    if (!got)
      fail("read_stream: " + got.error().to_string());
    if (got->empty())
      break;
    for (const auto& e : *got) {
      ++s.events;
      s.bytes += e.payload.size() + static_cast<unsigned char>(e.payload[0]);
      s.corrupt += e.corrupt ? 1 : 0;
      s.last = e.version;
    }
  }
  double secs = seconds_since(t0);
  s.expect(n, "read_stream (owned)");
  return static_cast<double>(n) / secs;
}

double read_log_view_pass(event_store& store, uint64_t n) {
  read_sink s;
  const event_visitor visit = [&s](const event_view& e) {
    ++s.events;
    s.bytes += e.payload.size() + static_cast<unsigned char>(e.payload[0]);
    s.corrupt += e.corrupt ? 1 : 0;
    s.last = e.position;
    return true;
  };
  auto t0 = bench_clock::now();
  while (s.events < n) {
    auto got = store.read_all(s.last, read_page, visit);
    if (!got)
      fail("read_all: " + got.error().to_string());
    if (*got == 0)
      break;
  }
  double secs = seconds_since(t0);
  s.expect(n, "read_all");
  return static_cast<double>(n) / secs;
}

double read_log_owned_pass(event_store& store, uint64_t n) {
  read_sink s;
  auto t0 = bench_clock::now();
  while (s.events < n) {
    auto got = store.read_all(s.last, read_page);
    if (!got)
      fail("read_all: " + got.error().to_string());
    if (got->empty())
      break;
    for (const auto& e : *got) {
      ++s.events;
      s.bytes += e.payload.size() + static_cast<unsigned char>(e.payload[0]);
      s.corrupt += e.corrupt ? 1 : 0;
      s.last = e.position;
    }
  }
  double secs = seconds_since(t0);
  s.expect(n, "read_all (owned)");
  return static_cast<double>(n) / secs;
}

std::vector<compared_case> run_reads(const run_plan& plan, const cli_options& cli,
                                     const std::filesystem::path& root) {
  const uint64_t n = plan.read_events;
  const auto payload = make_payload();
  std::cerr << "journal_bench: writing " << n << " events for the read cases\n";
  // The read data is written without fsync (it is not what is measured here) and
  // flushed once; reads cost the same whatever the durability mode.
  auto store = open_store(root / "read", durability::no_sync);
  raw_lmdb_journal raw{root / "raw_read", true};
  if (!raw.ok())
    fail(raw.error());
  {
    const auto tmpl = make_batch(1000, payload);
    for (uint64_t written = 0; written < n; written += 1000) {
      check_stop();
      auto count = std::min<uint64_t>(1000, n - written);
      std::vector<new_event> batch(tmpl.begin(), tmpl.begin() + static_cast<std::ptrdiff_t>(count));
      if (auto r = store->append(read_stream_id, expected_version::any(), std::move(batch)); !r)
        fail("fill read stream: " + r.error().to_string());
      if (!raw.append_batch(count, payload))
        fail("fill raw journal: " + raw.error());
    }
    if (auto ok = store->flush(); !ok)
      fail("flush: " + ok.error().to_string());
    if (!raw.sync())
      fail(raw.error());
  }

  struct variant {
    const char* name;
    std::function<double()> pass;
  };
  std::vector<variant> variants = {
    {"raw_walk", [&] { return raw_walk_pass(raw, n); }},
    {"read_stream", [&] { return read_stream_view_pass(*store, n); }},
    {"read_stream_owned", [&] { return read_stream_owned_pass(*store, n); }},
    {"read_log", [&] { return read_log_view_pass(*store, n); }},
    {"read_log_owned", [&] { return read_log_owned_pass(*store, n); }},
  };
  // The raw walk (the baseline) always runs; the others as selected.
  variants.erase(std::remove_if(variants.begin() + 1, variants.end(),
                                [&](const variant& v) { return !cli.selected(v.name); }),
                 variants.end());
  std::cerr << "journal_bench: reads (" << plan.read_rounds << " rounds of " << n
            << " events per variant)\n";
  for (auto& v : variants)  // warm-up: map every page into this process once
    (void)v.pass();
  std::vector<std::vector<double>> rates(variants.size());
  for (int round = 0; round < plan.read_rounds; ++round)
    for (std::size_t k = 0; k < variants.size(); ++k) {
      check_stop();
      auto i = (k + static_cast<std::size_t>(round)) % variants.size();
      rates[i].push_back(variants[i].pass());
    }

  std::vector<compared_case> cases;
  for (std::size_t i = 1; i < variants.size(); ++i) {
    compared_case c;
    c.name = variants[i].name;
    c.value_rounds = rates[i];
    c.baseline_rounds = rates[0];
    c.print_json();
    cases.push_back(std::move(c));
  }
  return cases;
}

// -- stderr tables ----------------------------------------------------------------------

std::string target_note(const compared_case& c) {
  if (c.name == "append_batch_100" || c.name == "append_batch_1000")
    return c.ratio() >= 0.8 ? "ok (ratio >= 0.8)" : "MISSED (ratio >= 0.8)";
  if (c.name == "read_log")
    return c.value() >= 2e6 ? "ok (>= 2M/s)" : "MISSED (>= 2M/s)";
  return "";
}

// Durable figures only compare Annal with raw LMDB when the disk behaved the same way
// throughout. Some disks (VM block devices with rate limiters, shared disks) switch into
// a throttled mode where every sync costs milliseconds; then both sides wait on the disk
// and the ratio says nothing about Annal. Probes the fsync latency again after the appends
// and prints it as a line with the start latency as its baseline, then marks a case as
// throttled when its raw commits took over 20 times two fsyncs of the faster probe, or
// when its rounds' raw commit times differ more than 5-fold (the disk changed mode).
void check_disk_weather(const fsync_probe_result& start, const fsync_probe_result& end,
                        std::vector<compared_case>& appends) {
  if (!end.ok)
    return;
  emit(json_line{}
         .str("bench", "journal")
         .str("case", "fsync_after_appends")
         .str("metric", "p50_us")
         .num("value", end.median_us, 1)
         .num("baseline", start.median_us, 1)
         .num("ratio", end.median_us / start.median_us, 3));
  std::cerr << "journal_bench: raw fsync after the appends: median " << fixed(end.median_us, 1)
            << " us (at start " << fixed(start.median_us, 1) << " us)\n";
  double two_syncs_ms = 2 * std::min(start.median_us, end.median_us) / 1e3;
  bool any = false;
  for (auto& c : appends) {
    const auto& ms = c.baseline_batch_ms;
    c.disk_throttled = median(ms) > 20 * two_syncs_ms || max_of(ms) > 5 * min_of(ms);
    any = any || c.disk_throttled;
  }
  if (two_syncs_ms > 2)
    std::cerr << "journal_bench: NOTE: an fsync takes " << fixed(two_syncs_ms / 2, 1)
              << " ms on this disk: every commit waits for the disk and the durable ratios "
                 "approach 1 whatever Annal costs (compare with --no-sync)\n";
  if (any)
    std::cerr << "journal_bench: WARNING: the disk was throttled or changed speed during some "
                 "append cases (marked in the table): their ratios measure the disk, not "
                 "Annal; rerun on a quiet disk\n";
}

void print_append_table(const std::vector<compared_case>& cases, const fsync_probe_result& fs,
                        bool no_sync) {
  text_table t{{"case", "annal ev/s", "raw ev/s", "ratio", "round ratios", "annal ms/batch",
                "raw ms/batch", "target"}};
  for (const auto& c : cases) {
    auto rr = c.round_ratios();
    t.add({c.name, grouped(c.value()), grouped(c.baseline()), fixed(c.ratio(), 3),
           fixed(min_of(rr), 2) + ".." + fixed(max_of(rr), 2), fixed(median(c.value_batch_ms), 3),
           fixed(median(c.baseline_batch_ms), 3),
           target_note(c) + (c.disk_throttled ? " [disk throttled]" : "")});
  }
  std::string title = "journal appends (" + std::string{no_sync ? "no_sync" : "durable"}
                      + "; medians of interleaved rounds";
  if (!no_sync && fs.ok)
    title += "; raw fsync " + fixed(fs.median_us, 0) + " us, LMDB syncs twice per commit";
  t.print(title + ")");
}

void print_read_table(const std::vector<compared_case>& cases, uint64_t n) {
  text_table t{{"case", "annal ev/s", "raw walk ev/s", "ratio", "round ratios", "ns/event",
                "target"}};
  for (const auto& c : cases) {
    auto rr = c.round_ratios();
    t.add({c.name, grouped(c.value()), grouped(c.baseline()), fixed(c.ratio(), 3),
           fixed(min_of(rr), 2) + ".." + fixed(max_of(rr), 2),
           fixed(c.value() > 0 ? 1e9 / c.value() : 0, 0), target_note(c)});
  }
  t.print("journal reads (" + grouped(static_cast<double>(n))
          + " events, pages of 10,000; medians)");
}

} // namespace

// See reopen_tail in the header comment.
void run_reopen_tail(const std::filesystem::path& root) {
  const auto dir = root / "reopen-tail";
  constexpr std::size_t tail = 262143;
  pid_t pid = ::fork();
  if (pid == 0) {
    store_options o;
    o.dir = dir;
    o.mode = durability::no_sync;
    o.index_merge_runs = tail + 1;
    o.index_merge_runs_per_leaf = 0;
    auto store = event_store::open(o);
    if (!store)
      std::_Exit(3);
    std::size_t n = 0;
    while (n < tail) {
      write_batch b;
      for (std::size_t i = 0; i < 512 && n < tail; ++i, ++n)
        b.appends.push_back(stream_append{"stream-" + std::to_string(n % 10000),
                                          expected_version::any(),
                                          {new_event{"E", 1, std::string(100, 'x'), {}, 0}}});
      if (!(*store)->commit(b))
        std::_Exit(4);
    }
    std::raise(SIGKILL); // no merge at close: the tail stays unindexed on disk
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFSIGNALED(status))
    fail("reopen_tail: the writer did not end by SIGKILL");
  store_options o;
  o.dir = dir;
  o.mode = durability::no_sync;
  auto started = bench_clock::now();
  auto store = event_store::open(o);
  double open_ms = seconds_since(started) * 1000;
  if (!store)
    fail("reopen_tail: open: " + store.error().to_string());
  started = bench_clock::now();
  if (auto ok = (*store)->merge_index(); !ok)
    fail("reopen_tail: merge: " + ok.error().to_string());
  double merge_ms = seconds_since(started) * 1000;
  emit(json_line{}.str("bench", "journal").str("case", "reopen_tail").num("tail_events", static_cast<double>(tail))
         .num("open_ms", open_ms, 1).num("merge_ms", merge_ms, 1));
  std::cerr << "reopen_tail: " << tail << " unmerged events: open " << fixed(open_ms, 1)
            << " ms, merge " << fixed(merge_ms, 1) << " ms\n";
}

namespace {

// Catches shard 0 up from the start in pages of 1000; returns (ms, events, calls).
std::tuple<double, uint64_t, uint64_t> catch_up_shard(event_store& store) {
  auto t0 = bench_clock::now();
  uint64_t after = 0, events = 0, calls = 0;
  global_position hint = 0;
  for (;;) {
    check_stop();
    if (calls > 100000)
      fail("read_shard: no end after 100,000 pages");
    shard_range r;
    r.shard = 0;
    r.after = after;
    r.max_count = 1000;
    r.from_position = hint;
    auto c = store.read_shard(r);
    if (!c)
      fail("read_shard: " + c.error().to_string());
    ++calls;
    events += c->events.events().size();
    if (!c->events.events().empty())
      after = c->events.events().back().shard_position;
    hint = c->next_hint;
    if (c->at_end)
      break;
  }
  return {seconds_since(t0) * 1e3, events, calls};
}

// See read_shard in the header comment.
void run_read_shard(const run_plan& plan, const std::filesystem::path& root) {
  const uint64_t n = plan.read_events;
  const auto payload = make_payload();
  std::cerr << "journal_bench: writing " << n << " events over 10,000 streams for read_shard\n";
  auto store = open_store(root / "shards", durability::no_sync);
  std::vector<stream_version> heads(10000, 0);
  for (uint64_t written = 0; written < n; written += 1000) {
    check_stop();
    std::vector<stream_append> batch;
    for (uint64_t i = written; i < std::min(n, written + 1000); ++i) {
      auto s = static_cast<std::size_t>(i % heads.size());
      stream_append a{"shard-bench-" + std::to_string(s), expected_version::exact(heads[s]++), {}};
      new_event e;
      e.type = "Bench";
      e.schema_version = 1;
      e.payload = payload;
      a.events.push_back(std::move(e));
      batch.push_back(std::move(a));
    }
    if (auto r = store->append(std::move(batch)); !r)
      fail("fill shards: " + r.error().to_string());
  }
  std::vector<double> ms;
  uint64_t events = 0, calls = 0;
  for (int pass = 0; pass < 3; ++pass)
    std::tie(ms.emplace_back(), events, calls) = catch_up_shard(*store);
  double catch_up_ms = median(ms);
  double scan_per_s = static_cast<double>(n) / (catch_up_ms / 1e3);
  emit(json_line{}
         .str("bench", "journal")
         .str("case", "read_shard")
         .num("log_events", static_cast<double>(n))
         .num("shard_events", static_cast<double>(events))
         .num("pages", static_cast<double>(calls))
         .num("catch_up_ms", catch_up_ms, 1)
         .num("scan_events_per_s", scan_per_s, 0));
  std::cerr << "read_shard: " << events << " events of shard 0 out of " << n << " in " << calls
            << " pages: " << fixed(catch_up_ms, 1) << " ms (" << grouped(scan_per_s)
            << " log events/s scanned)\n";
}

// Writes streams name(0..n-1) of one event each, 1,000 appends per commit.
void fill_streams(event_store& store, uint64_t n, const std::function<std::string(uint64_t)>& name) {
  for (uint64_t written = 0; written < n; written += 1000) {
    check_stop();
    std::vector<stream_append> batch;
    for (uint64_t i = written; i < std::min(n, written + 1000); ++i) {
      stream_append a{name(i), expected_version::no_stream(), {}};
      a.events.push_back(new_event{"Bench", 1, "x", {}, 0});
      batch.push_back(std::move(a));
    }
    if (auto r = store.append(std::move(batch)); !r)
      fail("fill streams: " + r.error().to_string());
  }
}

// See births in the header comment.
void run_births(const run_plan& plan, const std::filesystem::path& root, durability mode,
                double fsync_per_s) {
  const uint64_t existing = plan.read_events / 5;
  auto name = [](uint64_t i) {
    return "birth-" + std::to_string(std::hash<uint64_t>{}(i * 2654435761u));
  };
  std::cerr << "journal_bench: writing " << existing << " streams for births\n";
  {
    auto fill = open_store(root / "births", durability::no_sync);
    fill_streams(*fill, existing, name);
  }
  auto store = open_store(root / "births", mode);
  uint64_t next_new = existing, commits = 0, pick = 0;
  auto t0 = bench_clock::now();
  while (seconds_since(t0) < plan.segment_seconds * 4) {
    check_stop();
    std::vector<stream_append> batch;
    for (int i = 0; i < 32; ++i) {
      pick = pick * 6364136223846793005u + 1442695040888963407u; // an LCG: any old stream
      auto id = i < 8 ? name(next_new++) : name(pick % existing);
      stream_append a{id, expected_version::any(), {}};
      a.events.push_back(new_event{"Bench", 1, "y", {}, 0});
      batch.push_back(std::move(a));
    }
    if (auto r = store->append(std::move(batch)); !r)
      fail("births: " + r.error().to_string());
    ++commits;
  }
  double per_s = static_cast<double>(commits) / seconds_since(t0);
  emit(json_line{}
         .str("bench", "journal")
         .str("case", "births")
         .num("streams", static_cast<double>(existing))
         .num("commits_per_s", per_s, 1)
         .num("baseline", fsync_per_s, 1)
         .num("ratio", per_s / fsync_per_s, 3));
  std::cerr << "births: " << fixed(per_s, 1) << " commits/s of 32 appends (8 new streams) into "
            << existing << " streams; raw fsyncs/s " << fixed(fsync_per_s, 1) << "\n";
}

// Lists shard 0's trimmed streams of `store` through the index or the scan; (ms, count).
std::pair<double, std::size_t> list_trimmed(event_store& store, bool scan) {
  auto t0 = bench_clock::now();
  auto r = scan ? store.event_store::list_trimmed_streams(64, 0, "", ~uint64_t{0})
                : store.list_trimmed_streams(64, 0, "", ~uint64_t{0});
  if (!r)
    fail("list_trimmed_streams: " + r.error().to_string());
  return {seconds_since(t0) * 1e3, r->size()};
}

// See trimmed_streams in the header comment.
void run_trimmed_streams(const run_plan& plan, const std::filesystem::path& root) {
  const uint64_t n = plan.read_events / 2;
  std::cerr << "journal_bench: writing " << n << " streams for trimmed_streams\n";
  auto store = open_store(root / "trimmed", durability::no_sync);
  auto name = [](uint64_t i) { return "trim-bench-" + std::to_string(i); };
  fill_streams(*store, n, name);
  for (uint64_t i = 0; i < n; i += 1000)
    if (auto ok = store->delete_stream(name(i)); !ok)
      fail("delete: " + ok.error().to_string());
  std::vector<double> indexed, scanned;
  std::size_t found = 0, found_by_scan = 0;
  for (int pass = 0; pass < 3; ++pass) {
    std::tie(indexed.emplace_back(), found) = list_trimmed(*store, false);
    std::tie(scanned.emplace_back(), found_by_scan) = list_trimmed(*store, true);
  }
  if (found != found_by_scan)
    fail("trimmed_streams: the index lists " + std::to_string(found) + " streams, the scan "
         + std::to_string(found_by_scan));
  emit(json_line{}
         .str("bench", "journal")
         .str("case", "trimmed_streams")
         .num("streams", static_cast<double>(n))
         .num("trimmed_in_shard", static_cast<double>(found))
         .num("indexed_ms", median(indexed), 3)
         .num("scan_ms", median(scanned), 1)
         .num("baseline", median(scanned), 1)
         .num("ratio", median(indexed) / median(scanned), 5));
  std::cerr << "trimmed_streams: " << found << " of shard 0 among " << n << " streams: index "
            << fixed(median(indexed), 3) << " ms, scan " << fixed(median(scanned), 1) << " ms\n";
}

} // namespace

int main(int argc, char** argv) {
  const auto cli = parse_cli(argc, argv);
  const auto& plan = cli.quick ? quick_plan : full_plan;
  const auto mode = cli.no_sync ? durability::no_sync : durability::durable;

  bench_dir dir{cli.dir, "annal-journal-bench"};
  if (!dir.ok()) {
    std::cerr << "journal_bench: " << dir.error() << '\n';
    return 1;
  }
  if (cli.keep)
    dir.keep();
  std::signal(SIGINT, request_stop);
  std::signal(SIGTERM, request_stop);
  std::signal(SIGPIPE, SIG_IGN);  // a closed stdout shows as a failed stream instead
  try {
    auto start = bench_clock::now();
    const auto fs_name = fs_type(dir.path());
    if (memory_backed(dir.path()))
      std::cerr << "journal_bench: WARNING: " << dir.path() << " is " << fs_name
                << "; durable figures will not reflect a disk (use --dir)\n";
    auto probe = fsync_probe(dir.path(), 200, cli.quick ? 3.0 : 10.0);
    if (!probe.ok)
      fail("fsync probe: " + probe.error);
    emit(env_line(to_string(mode))
           .num("fsync_us", probe.median_us, 1)
           .num("fsync_p99_us", probe.p99_us, 1)
           .num("fsync_per_s", probe.per_s, 0)
           .str("fs", fs_name)
           .str("dir", dir.path().string())
           .boolean("quick", cli.quick)
           .integer("payload_bytes", static_cast<int64_t>(payload_size))
           .str("lmdb", std::to_string(MDB_VERSION_MAJOR) + "." + std::to_string(MDB_VERSION_MINOR)
                          + "." + std::to_string(MDB_VERSION_PATCH)));
    std::cerr << "journal_bench: scratch folder " << dir.path() << " (" << fs_name
              << "); raw fsync (pwrite 4 KiB + fdatasync) median " << fixed(probe.median_us, 1)
              << " us, p99 " << fixed(probe.p99_us, 1) << " us, " << grouped(probe.per_s)
              << " fsyncs/s over " << probe.iterations << " writes\n";

    auto appends = run_appends(plan, cli, dir.path(), mode);
    if (!appends.empty()) {
      if (!cli.no_sync)
        check_disk_weather(probe, fsync_probe(dir.path(), 100, 2.0), appends);
      print_append_table(appends, probe, cli.no_sync);
    }
    const std::string_view read_cases[] = {"read_stream", "read_stream_owned", "read_log",
                                           "read_log_owned"};
    if (std::any_of(std::begin(read_cases), std::end(read_cases),
                    [&](std::string_view n) { return cli.selected(n); })) {
      auto reads = run_reads(plan, cli, dir.path());
      print_read_table(reads, plan.read_events);
    }
    if (cli.selected("reopen_tail"))
      run_reopen_tail(dir.path());
    if (cli.selected("read_shard"))
      run_read_shard(plan, dir.path());
    if (cli.selected("births"))
      run_births(plan, dir.path(), mode, probe.per_s);
    if (cli.selected("trimmed_streams"))
      run_trimmed_streams(plan, dir.path());
    std::cerr << "\njournal_bench: done in " << fixed(seconds_since(start), 1) << " s\n";
  } catch (const std::exception& e) {
    std::cerr << "journal_bench: FAILED: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
