// The journal writer's group commits (grouping, the batch bounds, when snapshots are
// written), the loader pool's bound on concurrent rehydrations, and the command ids that
// reach the events' metadata. (The router's LRU passivation is in deterministic_test.)
//
// The writer runs on its own thread and blocks in its before_commit hook while a test
// holds a commit, so everything sent to it meanwhile waits in its mailbox. A test knows
// that an instance has handed its append to the writer once a later command of the same
// instance was decided: the `probe` command below decides nothing and passes an (open)
// gate, whose entry count the test waits for.
#include <catch2/catch.hpp>

#include <caf/all.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include <cereal/types/string.hpp>

#include "annal/decision.hpp"
#include "annal/detail/aggregate_instance.hpp"
#include "annal/event_registry.hpp"
#include "annal/event_store.hpp"
#include "annal/aggregate_host.hpp"
#include "bank_account.hpp"
#include "temp_dir.hpp"
#include "write_side_helpers.hpp"

using namespace annal;
using test::config_in;
using namespace std::chrono_literals;

// -- a test aggregate: notes with a caller-chosen payload size -------------------------------

namespace wr {

struct noted {
  static constexpr std::string_view event_type = "wr.noted";
  std::string tag;
  template <class Archive>
  void serialize(Archive& ar) { ar(CEREAL_NVP(tag)); }
};

/// Decides `count` events, each carrying `tag` (its size sets the payload size).
struct note {
  std::string tag;
  int count = 1;
  template <class Archive>
  void serialize(Archive& ar) { ar(tag, count); }
};

/// Decides nothing, after passing gate `g` (open: it only counts the entry).
struct probe {
  std::shared_ptr<annal::test::gate> g;
  template <class Archive>
  void serialize(Archive&) {} // local only
};

struct state {
  uint64_t notes = 0;
  template <class Archive>
  void serialize(Archive& ar) { ar(notes); }
};

/// While armed, every evolve counts as running for `hold` and records the peak of how
/// many ran at once. Only rehydrations run evolve while a test keeps it armed (the
/// commands it sends then decide nothing).
struct replay_gauge {
  static inline std::atomic<bool> armed{false};
  static inline std::atomic<int> running{0};
  static inline std::atomic<int> peak{0};
  static inline std::atomic<int> calls{0};
  static inline std::chrono::milliseconds hold{20};

  static void reset() {
    armed = false;
    running = 0;
    peak = 0;
    calls = 0;
  }
  static void enter_and_leave() {
    int now = ++running;
    int seen = peak.load();
    while (now > seen && !peak.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(hold);
    --running;
    ++calls;
  }
};

struct journal {
  using state = wr::state;
  using command = std::variant<note, probe>;
  using event = noted;
  static constexpr std::string_view category = "wr";

  static annal::decision<event> decide(const state&, const command& c) {
    if (auto n = std::get_if<note>(&c))
      return std::vector<event>(static_cast<std::size_t>(n->count), noted{n->tag});
    std::get<probe>(c).g->wait();
    return {};
  }

  static void evolve(state& s, const event&) {
    if (replay_gauge::armed.load())
      replay_gauge::enter_and_leave();
    ++s.notes;
  }
};

} // namespace wr

using wr::journal;

namespace {

// What one group commit held, as the before_commit hook saw it.
struct batch_shape {
  std::size_t appends = 0;
  std::size_t events = 0;
  std::size_t payload_bytes = 0;  // sum of the events' serialized payloads
  std::size_t metadata_bytes = 0; // sum of the events' command, correlation and causation ids
  std::size_t snapshots = 0;
  std::vector<std::string> snapshot_streams;
};

// A before_commit hook that records the shape of every batch, optionally holds the
// commit with a given index (0-based, in the order the writer attempts them) at a gate,
// and then forwards to a commit_control (if any).
class batch_recorder {
public:
  explicit batch_recorder(std::shared_ptr<test::commit_control> ctl = nullptr) : ctl_(std::move(ctl)) {}

  /// Commit number `index` waits at the returned gate until the test opens it.
  std::shared_ptr<test::gate> hold_commit(std::size_t index) {
    std::lock_guard<std::mutex> g{m_};
    auto& gate = gates_[index];
    gate = std::make_shared<test::gate>();
    return gate;
  }

  std::vector<batch_shape> batches() {
    std::lock_guard<std::mutex> g{m_};
    return shapes_;
  }

  status operator()(const write_batch& b) {
    batch_shape s;
    s.appends = b.appends.size();
    s.snapshots = b.snapshots.size();
    for (const auto& a : b.appends) {
      s.events += a.events.size();
      for (const auto& e : a.events) {
        s.payload_bytes += e.payload.size();
        s.metadata_bytes += e.metadata.command_id.size() + e.metadata.correlation_id.size()
                            + e.metadata.causation_id.size();
      }
    }
    for (const auto& snap : b.snapshots)
      s.snapshot_streams.push_back(snap.stream_id);
    std::shared_ptr<test::gate> hold;
    {
      std::lock_guard<std::mutex> g{m_};
      auto i = gates_.find(shapes_.size());
      if (i != gates_.end())
        hold = i->second;
      shapes_.push_back(s);
    }
    if (hold)
      hold->wait();
    return ctl_ ? (*ctl_)(b) : status{};
  }

  static std::function<status(const write_batch&)> hook(const std::shared_ptr<batch_recorder>& r) {
    return [r](const write_batch& b) { return (*r)(b); };
  }

private:
  std::shared_ptr<test::commit_control> ctl_;
  std::mutex m_;
  std::map<std::size_t, std::shared_ptr<test::gate>> gates_;
  std::vector<batch_shape> shapes_;
};

// An open gate that only counts the probes that passed it.
std::shared_ptr<test::gate> probe_gate() {
  auto g = std::make_shared<test::gate>();
  g->open();
  return g;
}

// Commands sent to one instance: a note, then a probe behind it.
struct noted_and_probed {
  std::future<command_result> note;
  std::future<command_result> probe;
};

// Sends a note of `tag` to every id in `ids`, each followed by a probe through `g`, and
// waits until every probe was decided: then every note's append is in the writer's
// mailbox (an instance sends its append while deciding the note, before the probe).
std::vector<noted_and_probed> note_each(runtime& rt, const std::vector<std::string>& ids,
                                        const std::string& tag, const std::shared_ptr<test::gate>& g,
                                        bool* all_probed, const command_options& o = {}) {
  std::vector<noted_and_probed> out;
  int before = g->entered();
  for (const auto& id : ids) {
    noted_and_probed x;
    x.note = rt.send<journal>(id, wr::note{tag, 1}, o);
    x.probe = rt.send<journal>(id, wr::probe{g});
    out.push_back(std::move(x));
  }
  *all_probed = g->wait_entered(before + static_cast<int>(ids.size()));
  return out;
}

std::vector<std::string> ids(const std::string& prefix, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i)
    out.push_back(prefix + std::to_string(i));
  return out;
}

// True when every note and probe succeeded and each probe answered the note's version.
bool all_succeeded(std::vector<noted_and_probed>& sent, std::vector<command_reply>* notes = nullptr) {
  bool ok = true;
  for (auto& x : sent) {
    auto n = test::get_within(x.note);
    auto p = test::get_within(x.probe);
    ok = ok && n && p && n->version == 1 && p->version == 1 && p->position == n->position;
    if (n && notes)
      notes->push_back(*n);
  }
  return ok;
}

std::size_t total_appends(const std::vector<batch_shape>& bs) {
  std::size_t n = 0;
  for (const auto& b : bs)
    n += b.appends;
  return n;
}

} // namespace

// -- group commit ----------------------------------------------------------------------------

TEST_CASE("appends from many aggregates share one group commit", "[writer][group_commit]") {
  test::temp_dir dir;
  auto ctl = std::make_shared<test::commit_control>();
  auto rec = std::make_shared<batch_recorder>(ctl);
  auto cfg = config_in(dir);
  cfg.writer.before_commit = batch_recorder::hook(rec);
  auto rt = test::start_runtime<journal>(cfg);
  REQUIRE(rt);

  ctl->hold();
  auto seed = rt->send<journal>("seed", wr::note{"s", 1});
  REQUIRE(ctl->wait_held());
  bool probed = false;
  auto sent = note_each(*rt, ids("g", 10), "x", probe_gate(), &probed);
  REQUIRE(probed);
  CHECK(rec->batches().size() == 1); // the writer is still in the held commit
  ctl->release();

  auto s = test::get_within(seed);
  REQUIRE(s);
  CHECK(s->position == 1);
  std::vector<command_reply> notes;
  CHECK(all_succeeded(sent, &notes));
  auto bs = rec->batches();
  REQUIRE(bs.size() == 2);
  CHECK(bs[0].appends == 1);
  CHECK(bs[1].appends == 10); // every append that waited: one transaction, one fsync
  CHECK(bs[1].events == 10);
  CHECK(ctl->commits_seen() == 2);
  CHECK(rt->metrics().commits.load() == 2);
  std::set<global_position> positions;
  for (auto& n : notes)
    positions.insert(n.position);
  CHECK(positions == std::set<global_position>{2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
}

TEST_CASE("every group commit is timed, the slow disk's time included", "[writer][group_commit][metrics]") {
  test::temp_dir dir;
  auto cfg = config_in(dir);
  cfg.writer.before_commit = [](const write_batch&) -> status {
    std::this_thread::sleep_for(std::chrono::milliseconds(3)); // a disk that takes 3 ms
    return {};
  };
  auto rt = test::start_runtime<journal>(cfg);
  REQUIRE(rt);
  for (int i = 0; i < 5; ++i) {
    auto r = test::get_within(rt->send<journal>("slow", wr::note{"n", 1}));
    REQUIRE(r);
  }
  auto commits = rt->metrics().commits.load();
  auto timed = rt->metrics().commit_durations.read();
  CHECK(commits >= 5);
  CHECK(timed.count == commits);
  CHECK(timed.sum >= std::chrono::milliseconds(3) * static_cast<int64_t>(commits));
  CHECK(timed.quantile(0.5) >= std::chrono::milliseconds(3));
}

TEST_CASE("after an idle commit the writer takes the next append as it arrives, not at the end "
          "of its watch",
          "[writer][group_commit]") {
  // The writer watches its mailbox for a while after a commit with nothing behind it (a
  // sleeping thread takes as long to wake as one command's round trip takes): that watch
  // must end at the first message.
  test::temp_dir dir;
  auto cfg = config_in(dir);
  cfg.writer.idle_spin = std::chrono::seconds(3);
  auto rt = test::start_runtime<journal>(cfg);
  REQUIRE(rt);
  auto first = test::get_within(rt->send<journal>("w", wr::note{"a", 1}));
  REQUIRE(first);
  std::this_thread::sleep_for(std::chrono::milliseconds(20)); // the writer is watching
  auto t0 = std::chrono::steady_clock::now();
  auto second = test::get_within(rt->send<journal>("w", wr::note{"b", 2}));
  REQUIRE(second);
  CHECK(second->position > first->position);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(1));
  auto t1 = std::chrono::steady_clock::now();
  REQUIRE(rt->stop()); // an exit ends the watch too
  CHECK(std::chrono::steady_clock::now() - t1 < std::chrono::seconds(2));
}

TEST_CASE("a group commit is cut at max_batch_events", "[writer][group_commit]") {
  test::temp_dir dir;
  auto ctl = std::make_shared<test::commit_control>();
  auto rec = std::make_shared<batch_recorder>(ctl);
  auto cfg = config_in(dir);
  cfg.writer.max_batch_events = 3;
  cfg.writer.before_commit = batch_recorder::hook(rec);
  auto rt = test::start_runtime<journal>(cfg);
  REQUIRE(rt);

  ctl->hold();
  auto seed = rt->send<journal>("seed", wr::note{"s", 1});
  REQUIRE(ctl->wait_held());
  bool probed = false;
  auto sent = note_each(*rt, ids("e", 10), "x", probe_gate(), &probed);
  REQUIRE(probed);
  ctl->release();

  REQUIRE(test::get_within(seed));
  CHECK(all_succeeded(sent));
  auto bs = rec->batches();
  REQUIRE(bs.size() >= 2);
  CHECK(total_appends(bs) == 11);
  std::size_t largest = 0;
  for (const auto& b : bs)
    largest = std::max(largest, b.events);
  CHECK(largest <= 3);
  // The 10 waiting appends were still grouped: 4 commits of at most 3, not 10 of one.
  CHECK(bs.size() - 1 == 4);

  // One append larger than the bound is not stuck: it commits alone.
  auto big = test::get_within(rt->send<journal>("big", wr::note{"y", 5}));
  REQUIRE(big);
  CHECK(big->version == 5);
  auto after = rec->batches();
  REQUIRE(after.size() == bs.size() + 1);
  CHECK(after.back().appends == 1);
  CHECK(after.back().events == 5);
}

TEST_CASE("a group commit is cut at max_batch_bytes", "[writer][group_commit]") {
  test::temp_dir dir;
  auto ctl = std::make_shared<test::commit_control>();
  auto rec = std::make_shared<batch_recorder>(ctl);
  auto cfg = config_in(dir);
  // Each note below serializes to more than 1000 payload bytes: four never fit.
  constexpr std::size_t bound = 4000;
  cfg.writer.max_batch_bytes = bound;
  cfg.writer.before_commit = batch_recorder::hook(rec);
  auto rt = test::start_runtime<journal>(cfg);
  REQUIRE(rt);

  ctl->hold();
  auto seed = rt->send<journal>("seed", wr::note{"s", 1});
  REQUIRE(ctl->wait_held());
  bool probed = false;
  auto sent = note_each(*rt, ids("b", 10), std::string(1000, 'p'), probe_gate(), &probed);
  REQUIRE(probed);
  ctl->release();

  REQUIRE(test::get_within(seed));
  CHECK(all_succeeded(sent));
  auto bs = rec->batches();
  REQUIRE(bs.size() >= 2);
  CHECK(total_appends(bs) == 11);
  std::size_t largest = 0;
  for (const auto& b : bs)
    largest = std::max(largest, b.payload_bytes);
  INFO("largest batch payload: " << largest << " bytes");
  CHECK(largest <= bound);
  // ...and still grouped (more than one per commit), so at most 9 commits for the 10.
  CHECK(bs.size() - 1 >= 4);
  CHECK(bs.size() - 1 < 10);
}

TEST_CASE("a group commit's byte bound counts the events' metadata", "[writer][group_commit]") {
  // Command, correlation and causation ids (up to 64 KiB each) are written with every
  // event: sizing an append without them let a group commit grow far beyond the bound.
  test::temp_dir dir;
  auto ctl = std::make_shared<test::commit_control>();
  auto rec = std::make_shared<batch_recorder>(ctl);
  auto cfg = config_in(dir);
  constexpr std::size_t bound = 4000;
  cfg.writer.max_batch_bytes = bound;
  cfg.writer.before_commit = batch_recorder::hook(rec);
  auto rt = test::start_runtime<journal>(cfg);
  REQUIRE(rt);

  ctl->hold();
  auto seed = rt->send<journal>("seed", wr::note{"s", 1});
  REQUIRE(ctl->wait_held());
  command_options o;
  o.correlation_id = std::string(1500, 'c'); // tiny payloads, 3000 bytes of ids per event
  o.causation_id = std::string(1500, 'k');
  bool probed = false;
  auto sent = note_each(*rt, ids("m", 10), "x", probe_gate(), &probed, o);
  REQUIRE(probed);
  ctl->release();

  REQUIRE(test::get_within(seed));
  CHECK(all_succeeded(sent));
  auto bs = rec->batches();
  CHECK(total_appends(bs) == 11);
  std::size_t largest = 0;
  for (const auto& b : bs)
    if (b.appends > 1) // one append alone may exceed the bound
      largest = std::max(largest, b.payload_bytes + b.metadata_bytes);
  INFO("largest grouped batch: " << largest << " bytes of payloads and ids, in " << bs.size()
                                 << " commits");
  CHECK(largest <= bound);
}

// -- snapshots -------------------------------------------------------------------------------

namespace {

// With snapshots every event: holds commits #0 and #1 so that, when #1 commits, six
// snapshots are queued (seed's and s0..s4's) while the appends of t0..t4 wait; then lets
// everything commit and checks that every command succeeded.
void queue_snapshots_behind_appends(runtime& rt, batch_recorder& rec) {
  auto held0 = rec.hold_commit(0);
  auto held1 = rec.hold_commit(1);
  auto seed = rt.send<journal>("seed", wr::note{"s", 1});
  REQUIRE(held0->wait_entered());
  bool probed = false;
  auto first = note_each(rt, ids("s", 5), "x", probe_gate(), &probed);
  REQUIRE(probed);
  held0->open();
  REQUIRE(held1->wait_entered());
  auto second = note_each(rt, ids("t", 5), "x", probe_gate(), &probed);
  REQUIRE(probed);
  held1->open();
  REQUIRE(test::get_within(seed));
  CHECK(all_succeeded(first));
  CHECK(all_succeeded(second));
}

} // namespace

TEST_CASE("snapshots wait for a commit without appends", "[writer][snapshot]") {
  test::temp_dir dir;
  auto rec = std::make_shared<batch_recorder>();
  auto cfg = config_in(dir);
  cfg.writer.before_commit = batch_recorder::hook(rec);
  aggregate_options opts;
  opts.snapshot_every = 1; // every append carries a snapshot
  auto rt = test::start_runtime<journal>(cfg, opts);
  REQUIRE(rt);

  // Commit #1 holds the appends of s0..s4 while t0..t4 queue theirs; when it commits,
  // six snapshots are queued (seed's and s0..s4's) and five appends wait.
  queue_snapshots_behind_appends(*rt, *rec);

  // Then commands keep flowing, pipelined, to a few instances.
  std::vector<std::future<command_result>> flow;
  for (int k = 0; k < 25; ++k)
    for (const auto& id : ids("f", 4))
      flow.push_back(rt->send<journal>(id, wr::note{"y", 1}));
  bool flow_ok = true;
  for (auto& f : flow)
    flow_ok = flow_ok && test::get_within(f).has_value();
  CHECK(flow_ok);
  REQUIRE(rt->stop()); // commits what is queued, snapshots included

  auto bs = rec->batches();
  REQUIRE(bs.size() >= 4);
  CHECK(bs[1].appends == 5);
  CHECK(bs[2].appends == 5); // appends that waited while six snapshots were queued
  std::size_t mixed = 0, snapshots = 0, snapshot_only = 0;
  for (const auto& b : bs) {
    mixed += b.appends > 0 && b.snapshots > 0;
    snapshot_only += b.appends == 0 && b.snapshots > 0;
    snapshots += b.snapshots;
  }
  CHECK(mixed == 0);
  CHECK(snapshot_only > 0);
  CHECK(snapshots == rt->metrics().snapshots_written.load());
  CHECK(snapshots >= 11 + 4);

  auto snapshot_version = [&](const std::string& id) -> stream_version {
    auto s = rt->store().load_snapshot(aggregate_traits<journal>::stream_id(id));
    return s && *s ? (*s)->version : 0;
  };
  bool written = snapshot_version("seed") == 1;
  for (const auto& id : ids("s", 5))
    written = written && snapshot_version(id) == 1;
  for (const auto& id : ids("t", 5))
    written = written && snapshot_version(id) == 1;
  CHECK(written);
  bool newest = true;
  for (const auto& id : ids("f", 4))
    newest = newest && snapshot_version(id) == 25;
  CHECK(newest);
}

TEST_CASE("beyond max_queued_snapshots a share of the snapshots rides along with appends",
          "[writer][snapshot]") {
  test::temp_dir dir;
  auto rec = std::make_shared<batch_recorder>();
  auto cfg = config_in(dir);
  cfg.writer.max_queued_snapshots = 2;
  cfg.writer.before_commit = batch_recorder::hook(rec);
  aggregate_options opts;
  opts.snapshot_every = 1;
  auto rt = test::start_runtime<journal>(cfg, opts);
  REQUIRE(rt);

  // As above: when commit #1 is done, six snapshots are queued (more than 2) and five
  // appends wait.
  queue_snapshots_behind_appends(*rt, *rec);
  REQUIRE(rt->stop());

  auto bs = rec->batches();
  REQUIRE(bs.size() >= 3);
  CHECK(bs[1].appends == 5);
  CHECK(bs[1].snapshots == 0); // one queued: not more than 2
  CHECK(bs[2].appends == 5);
  CHECK(bs[2].snapshots > 0); // six queued: some ride along...
  CHECK(bs[2].snapshots < 6); // ...but not all at once
  std::size_t snapshots = 0;
  for (const auto& b : bs)
    snapshots += b.snapshots;
  CHECK(snapshots == 11);
}

TEST_CASE("a queued snapshot is written while appends keep coming", "[writer][snapshot]") {
  // Beyond max_queued_snapshots a share of the queue rides along with appends. Taken from
  // the front of a map ordered by stream id, the snapshot of a stream whose id sorts late
  // waited for as long as streams sorting before it kept queueing new ones: the share is
  // taken oldest-queued first.
  test::temp_dir dir;
  auto rec = std::make_shared<batch_recorder>();
  auto cfg = config_in(dir);
  cfg.writer.max_queued_snapshots = 2;
  cfg.writer.before_commit = batch_recorder::hook(rec);
  aggregate_options opts;
  opts.snapshot_every = 1;
  auto rt = test::start_runtime<journal>(cfg, opts);
  REQUIRE(rt);

  // Commit #0 writes "z"'s event (its snapshot is queued from then on). In each round the
  // test holds commit #i while a0..a3 queue their next appends, so every later commit
  // has appends and, from commit #2 on, more than two snapshots queued.
  constexpr std::size_t rounds = 8;
  std::vector<std::shared_ptr<test::gate>> held;
  for (std::size_t i = 0; i <= rounds; ++i)
    held.push_back(rec->hold_commit(i));
  auto z = rt->send<journal>("z", wr::note{"z", 1});
  std::vector<std::vector<noted_and_probed>> sent;
  auto g = probe_gate();
  bool probed = true;
  for (std::size_t i = 0; i < rounds; ++i) {
    REQUIRE(held[i]->wait_entered());
    bool ok = false;
    sent.push_back(note_each(*rt, ids("a", 4), "a", g, &ok));
    probed = probed && ok;
    held[i]->open();
  }
  REQUIRE(probed);
  REQUIRE(held[rounds]->wait_entered());
  auto under_load = rec->batches(); // every commit so far carried appends
  held[rounds]->open();
  REQUIRE(test::get_within(z));
  bool all_ok = true;
  for (std::size_t i = 0; i < sent.size(); ++i)
    for (auto& x : sent[i]) {
      auto n = test::get_within(x.note);
      all_ok = all_ok && n && n->version == i + 1 && test::get_within(x.probe).has_value();
    }
  CHECK(all_ok);
  REQUIRE(rt->stop());

  REQUIRE(under_load.size() == rounds + 1);
  bool all_had_appends = true;
  std::size_t z_written_at = 0;
  for (std::size_t i = 0; i < under_load.size(); ++i) {
    all_had_appends = all_had_appends && under_load[i].appends > 0;
    const auto& ss = under_load[i].snapshot_streams;
    if (z_written_at == 0 && std::find(ss.begin(), ss.end(), "wr-z") != ss.end())
      z_written_at = i;
  }
  CHECK(all_had_appends);
  INFO("z's snapshot was queued after commit #0; commits with appends since: " << rounds);
  CHECK(z_written_at != 0);
}

// -- recovery --------------------------------------------------------------------------------

TEST_CASE("at most recovery_permits rehydrations run at once", "[aggregate][recovery]") {
  test::temp_dir dir;
  constexpr int instances = 16;
  aggregate_options opts;
  opts.snapshot_every = 0; // every rehydration replays the stream
  wr::replay_gauge::reset();
  {
    auto rt = test::start_runtime<journal>(config_in(dir), opts);
    REQUIRE(rt);
    std::vector<std::future<command_result>> fs;
    for (const auto& id : ids("r", instances))
      fs.push_back(rt->send<journal>(id, wr::note{"x", 1}));
    for (auto& f : fs)
      REQUIRE(test::get_within(f));
    REQUIRE(rt->stop());
  }
  auto cfg = config_in(dir);
  cfg.recovery_permits = 2;
  auto rt = test::start_runtime<journal>(cfg, opts);
  REQUIRE(rt);
  // Each replay of a stream's one event now takes 20 ms; the probes decide nothing, so
  // every evolve from here on is a rehydration's.
  wr::replay_gauge::armed = true;
  auto g = probe_gate();
  std::vector<std::future<command_result>> fs;
  for (const auto& id : ids("r", instances))
    fs.push_back(rt->send<journal>(id, wr::probe{g}));
  bool all_ok = true;
  for (auto& f : fs) {
    auto r = test::get_within(f);
    all_ok = all_ok && r && r->version == 1;
  }
  wr::replay_gauge::armed = false;
  CHECK(all_ok);
  CHECK(wr::replay_gauge::calls.load() == instances);
  INFO("peak of concurrent rehydrations: " << wr::replay_gauge::peak.load());
  CHECK(wr::replay_gauge::peak.load() <= 2);
  CHECK(wr::replay_gauge::peak.load() == 2); // both permits were used
}

// -- metadata --------------------------------------------------------------------------------

TEST_CASE("correlation and causation ids reach the events' metadata", "[aggregate][metadata]") {
  test::temp_dir dir;
  auto opened = runtime::open(config_in(dir));
  REQUIRE(opened);
  auto rt = std::move(*opened);
  REQUIRE(rt->register_aggregate<journal>());
  // A projection records the ids as committed events reach it.
  using id_triples = std::vector<std::vector<std::string>>;
  memory_projection<id_triples> ids_seen;
  ids_seen.options.name = "ids";
  ids_seen.apply = [](id_triples& m, const event_view& e) -> status {
    m.push_back({std::string{e.command_id}, std::string{e.correlation_id},
                 std::string{e.causation_id}});
    return {};
  };
  REQUIRE(rt->add_projection(std::move(ids_seen)));
  REQUIRE(rt->start());
  command_options o;
  o.command_id = "cmd-7";
  o.correlation_id = "order-42";
  o.causation_id = "evt-9";
  auto r = test::get_within(rt->send<journal>("m", wr::note{"x", 3}, o));
  REQUIRE(r);
  CHECK(r->version == 3);
  auto plain = test::get_within(rt->send<journal>("m", wr::note{"z", 1}));
  REQUIRE(plain);

  auto evs = rt->store().read_stream(aggregate_traits<journal>::stream_id("m"));
  REQUIRE(evs);
  REQUIRE(evs->size() == 4);
  for (std::size_t i = 0; i < 3; ++i) {
    INFO("event " << i + 1);
    const auto& m = (*evs)[i].metadata;
    CHECK(m.command_id == "cmd-7");
    CHECK(m.correlation_id == "order-42");
    CHECK(m.causation_id == "evt-9");
  }
  CHECK((*evs)[2].position == r->position);
  CHECK((*evs)[3].metadata == event_metadata{});

  // The same ids through the view form of a read.
  std::vector<std::string> seen;
  auto n = rt->store().read_stream(aggregate_traits<journal>::stream_id("m"), stream_range{1, 1, 1},
                                   [&](const event_view& e) {
                                     seen = {std::string{e.command_id}, std::string{e.correlation_id},
                                             std::string{e.causation_id}};
                                     return true;
                                   });
  REQUIRE(n);
  CHECK(seen == std::vector<std::string>{"cmd-7", "order-42", "evt-9"});

  query_options q;
  q.min_position = plain->position;
  auto projected = rt->query_memory<id_triples>("ids", [](const id_triples& m) { return m; }, q);
  REQUIRE(projected);
  const std::vector<std::string> ids{"cmd-7", "order-42", "evt-9"};
  CHECK(*projected == id_triples{ids, ids, ids, {"", "", ""}});
}
