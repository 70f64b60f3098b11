// Crash consistency of the journal under a real SIGKILL of a real writer process.
//
// journal_crash_child appends batches to a durable store and reports each acknowledged
// batch through a pipe; this test kills it at a random moment, then reopens the store
// (read-only, so that nothing here can repair what the crash left) and checks the
// promises a caller relies on after a crash: an acknowledged append is never lost, an
// append is never half there, and versions and positions keep their shape. The rounds
// share one data folder, so every round starts from the state the previous kill left.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <lmdb.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <limits>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <cereal/types/string.hpp>

#include "annal/event_store.hpp"
#include "annal/serialization.hpp"
#include "temp_dir.hpp"

#ifndef ANNAL_JOURNAL_CRASH_CHILD
#error "ANNAL_JOURNAL_CRASH_CHILD must name the journal_crash_child executable"
#endif

using namespace annal;

namespace {

// Mirrors journal_crash_child.cpp; a drift makes every decode below fail loudly.
struct crash_payload {
  uint64_t run = 0;
  uint64_t batch = 0;
  uint32_t index = 0;
  uint32_t size = 0;
  std::string filler;

  template <class Archive>
  void serialize(Archive& ar) {
    ar(run, batch, index, size, filler);
  }
};

constexpr const char* crash_event_type = "CrashEvent";

std::string crash_filler(uint64_t run, uint64_t batch, uint32_t index) {
  std::string s((run + batch * 31 + index * 7) % 97, 'a');
  for (std::size_t j = 0; j < s.size(); ++j)
    s[j] = static_cast<char>('a' + (j + index) % 26);
  return s;
}

using batch_key = std::pair<uint64_t, uint64_t>; // (run, batch)

// One line of the child: a batch the store acknowledged.
struct ack {
  uint64_t run = 0;
  uint64_t batch = 0;
  std::string stream;
  stream_version first_version = 0;
  uint32_t count = 0;
  global_position first_position = 0;
  global_position last_position = 0;
};

struct child_outcome {
  std::vector<ack> acks;
  int wait_status = 0;
  std::string garbled; // a complete line that did not parse, if any
};

// Collects violations instead of asserting per event: a round checks thousands of
// events, and the first few violations say more than an abort at the first one.
struct problems {
  std::vector<std::string> list;
  std::size_t total = 0;
  void add(std::string s) {
    ++total;
    if (list.size() < 20)
      list.push_back(std::move(s));
  }
  std::string text() const {
    std::string out = std::to_string(total) + " violation(s):";
    for (const auto& s : list)
      out += "\n  " + s;
    return out;
  }
};

std::string key_text(const batch_key& k) {
  return "run " + std::to_string(k.first) + " batch " + std::to_string(k.second);
}

// Runs the child on `dir` for `run_for`, then SIGKILLs it and reaps it.
child_outcome run_and_kill(const std::filesystem::path& dir, uint64_t seed,
                           std::chrono::milliseconds run_for) {
  // Everything the child needs is prepared before fork(): between fork and exec only
  // async-signal-safe calls are allowed.
  const std::string exe = ANNAL_JOURNAL_CRASH_CHILD;
  const std::string dir_arg = dir.string();
  const std::string seed_arg = std::to_string(seed);
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::dup2(fds[1], STDOUT_FILENO); // the duplicate does not inherit O_CLOEXEC
    ::execl(exe.c_str(), exe.c_str(), dir_arg.c_str(), seed_arg.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);

  // A thread drains the pipe, so that the child never blocks on a full pipe, while this
  // thread sleeps to the deadline: the kill time must not follow the child's output. (A
  // poll loop that checks the deadline when a line arrives kills right after an ack,
  // i.e. almost always between two appends, where there is nothing to catch.)
  std::string received;
  std::thread reader{[&received, fd = fds[0]] {
    char buf[65536];
    for (;;) {
      auto n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return; // EOF: the child is dead
      received.append(buf, static_cast<std::size_t>(n));
    }
  }};
  std::this_thread::sleep_for(run_for);
  ::kill(child, SIGKILL); // the child is not reaped yet, so its pid cannot have been reused
  reader.join();
  ::close(fds[0]);
  child_outcome out;
  while (::waitpid(child, &out.wait_status, 0) < 0 && errno == EINTR) {
  }

  // Only complete lines count: the kill may cut the last one (it cannot, as each line is
  // one write() below PIPE_BUF, but a torn line must not become a bogus ack either).
  std::size_t start = 0;
  for (auto nl = received.find('\n'); nl != std::string::npos;
       start = nl + 1, nl = received.find('\n', start)) {
    std::istringstream line{received.substr(start, nl - start)};
    ack a;
    a.run = seed;
    if (!(line >> a.batch >> a.stream >> a.first_version >> a.count >> a.first_position
          >> a.last_position)) {
      out.garbled = received.substr(start, nl - start);
      break;
    }
    out.acks.push_back(std::move(a));
  }
  return out;
}

// What one verification saw, so that the next round can check that it is still there.
struct seen_event {
  global_position position;
  std::string stream_id;
  stream_version version;
  std::string payload;
};

struct found_batch {
  std::string stream;
  uint32_t size = 0;
  std::vector<const recorded_event*> events; // by index in batch
};

// Checks the whole store against every ack so far and against what the previous round
// saw; returns the events it saw.
std::vector<seen_event> verify(const std::filesystem::path& dir, const std::vector<ack>& acks,
                               const std::vector<seen_event>& previous, problems& bad) {
  std::vector<seen_event> seen;
  if (!std::filesystem::exists(dir / "data.mdb")) {
    // Killed before it created the store: nothing may have been acknowledged either.
    if (!acks.empty() || !previous.empty())
      bad.add("the data file is gone although batches were acknowledged");
    return seen;
  }
  store_options o;
  o.dir = dir;
  o.read_only = true;
  auto opened = event_store::open(o);
  if (!opened && opened.error().code == errc::not_found && acks.empty() && previous.empty())
    return seen; // killed after creating the file, before its first commit
  if (!opened) {
    bad.add("reopen failed: " + opened.error().to_string());
    return seen;
  }
  auto& store = **opened;
  auto all = store.read_all(0, std::numeric_limits<uint64_t>::max());
  if (!all) {
    bad.add("read_all failed: " + all.error().to_string());
    return seen;
  }

  // Nothing committed earlier may change or vanish.
  if (all->size() < previous.size())
    bad.add("the log shrank from " + std::to_string(previous.size()) + " to "
            + std::to_string(all->size()) + " events");
  for (std::size_t i = 0; i < previous.size() && i < all->size(); ++i) {
    const auto& e = (*all)[i];
    const auto& p = previous[i];
    if (e.position != p.position || e.stream_id != p.stream_id || e.version != p.version
        || e.payload != p.payload)
      bad.add("event at index " + std::to_string(i) + " (position "
              + std::to_string(p.position) + ") changed since the previous round");
  }

  std::map<batch_key, found_batch> batches;
  std::map<std::string, std::vector<const recorded_event*>> by_stream;
  global_position last = 0;
  for (const auto& e : *all) {
    seen.push_back({e.position, e.stream_id, e.version, e.payload});
    const auto where = "position " + std::to_string(e.position);
    if (e.position <= last)
      bad.add(where + " does not increase on " + std::to_string(last));
    last = e.position;
    if (e.corrupt) {
      bad.add(where + " is corrupt");
      continue;
    }
    by_stream[e.stream_id].push_back(&e);
    if (e.type != crash_event_type) {
      bad.add(where + " has type '" + e.type + "'");
      continue;
    }
    auto p = from_bytes<crash_payload>(e.payload);
    if (!p) {
      bad.add(where + " does not decode: " + p.error().to_string());
      continue;
    }
    if (p->size == 0 || p->index >= p->size) {
      bad.add(where + " has index " + std::to_string(p->index) + " of "
              + std::to_string(p->size));
      continue;
    }
    if (p->filler != crash_filler(p->run, p->batch, p->index)
        || e.metadata.command_id != std::to_string(p->run) + ':' + std::to_string(p->batch))
      bad.add(where + " carries other bytes than were appended");
    auto& b = batches[{p->run, p->batch}];
    if (b.events.empty()) {
      b.stream = e.stream_id;
      b.size = p->size;
      b.events.resize(p->size, nullptr);
    }
    if (b.size != p->size || b.stream != e.stream_id || b.events[p->index] != nullptr) {
      bad.add(where + " contradicts the other events of " + key_text({p->run, p->batch}));
      continue;
    }
    b.events[p->index] = &e;
  }

  auto head_position = store.last_position();
  if (!head_position || *head_position != last)
    bad.add("last_position() disagrees with the newest event " + std::to_string(last));

  // Each stream: versions 1..head without a gap, the same through both read paths.
  for (const auto& [id, events] : by_stream) {
    auto head = store.stream_head(id);
    auto read = store.read_stream(id);
    if (!head || !read) {
      bad.add("cannot read stream " + id);
      continue;
    }
    if (head->head != events.size() || read->size() != events.size())
      bad.add("stream " + id + " has head " + std::to_string(head->head) + ", "
              + std::to_string(read->size()) + " events by read_stream and "
              + std::to_string(events.size()) + " in the global log");
    else if (head->last_position != events.back()->position)
      bad.add("stream " + id + " records last position " + std::to_string(head->last_position)
              + " but its newest event is at " + std::to_string(events.back()->position));
    for (std::size_t i = 0; i < events.size(); ++i) {
      if (events[i]->version != i + 1)
        bad.add("stream " + id + ": event " + std::to_string(i + 1) + " in the log has version "
                + std::to_string(events[i]->version));
      if (i < read->size()
          && ((*read)[i].position != events[i]->position || (*read)[i].version != i + 1
              || (*read)[i].payload != events[i]->payload || (*read)[i].corrupt))
        bad.add("stream " + id + ": read_stream and read_all differ at version "
                + std::to_string(i + 1));
    }
  }

  // Each batch found: complete, contiguous in its stream and in the global log.
  for (const auto& [key, b] : batches) {
    bool complete = true;
    for (uint32_t i = 0; i < b.size; ++i) {
      if (b.events[i] == nullptr) {
        bad.add(key_text(key) + " is partial: event " + std::to_string(i) + " of "
                + std::to_string(b.size) + " is missing");
        complete = false;
        break;
      }
    }
    if (!complete)
      continue;
    for (uint32_t i = 1; i < b.size; ++i)
      if (b.events[i]->version != b.events[0]->version + i
          || b.events[i]->position != b.events[0]->position + i)
        bad.add(key_text(key) + " is not contiguous at index " + std::to_string(i));
  }

  // Each ack: the batch is there, exactly where the append said it landed.
  std::map<uint64_t, uint64_t> last_acked; // run -> highest acknowledged batch
  for (const auto& a : acks) {
    const batch_key key{a.run, a.batch};
    auto& high = last_acked[a.run];
    if (a.batch != high + 1)
      bad.add("the child reported " + key_text(key) + " after batch " + std::to_string(high));
    high = a.batch;
    auto f = batches.find(key);
    if (f == batches.end()) {
      bad.add("acknowledged " + key_text(key) + " is lost");
      continue;
    }
    const auto& b = f->second;
    if (b.size != a.count || b.stream != a.stream || a.count == 0
        || a.last_position != a.first_position + a.count - 1 || b.events.front() == nullptr
        || b.events.front()->version != a.first_version
        || b.events.front()->position != a.first_position)
      bad.add("acknowledged " + key_text(key) + " (" + a.stream + " v"
              + std::to_string(a.first_version) + " x" + std::to_string(a.count) + " at "
              + std::to_string(a.first_position) + ") is stored differently");
  }

  // Unacknowledged batches: only the one a kill cut off between commit and report.
  for (const auto& [key, b] : batches) {
    auto high = last_acked.find(key.first);
    const uint64_t acked = high == last_acked.end() ? 0 : high->second;
    if (key.second > acked + 1)
      bad.add(key_text(key) + " is stored although batch " + std::to_string(acked + 1)
              + " of its run was never acknowledged");
  }
  return seen;
}

} // namespace

TEST_CASE("kill -9 at random moments loses no acknowledged batch and leaves none partial",
          "[crash]") {
  test::temp_dir dir;
  const auto data = dir / "journal";
  std::random_device rd;
  const uint64_t base_seed = (uint64_t{rd()} << 20) * 1000; // runs base+1, base+2, ...
  std::mt19937_64 rng{base_seed};
  INFO("base seed " << base_seed);

  constexpr int rounds = 25;
  std::vector<ack> acks;
  std::vector<seen_event> seen;
  int rounds_with_acks_after_a_kill = 0;
  for (int round = 1; round <= rounds; ++round) {
    const auto run_for = std::chrono::milliseconds{20 + rng() % 181};
    const uint64_t seed = base_seed + static_cast<uint64_t>(round);
    auto outcome = run_and_kill(data, seed, run_for);
    INFO("round " << round << " ran " << run_for.count() << " ms, acknowledged "
                  << outcome.acks.size() << " batches");
    REQUIRE(outcome.garbled.empty());
    // Anything but death by our SIGKILL means the child failed on its own (it reports
    // why on stderr): an append error is a failure of the store, not a crash to survive.
    const int status = outcome.wait_status;
    INFO("child wait status " << status << " (exit code "
                              << (WIFEXITED(status) ? WEXITSTATUS(status) : -1) << ")");
    REQUIRE(WIFSIGNALED(status));
    REQUIRE(WTERMSIG(status) == SIGKILL);
    if (round > 1 && !outcome.acks.empty())
      ++rounds_with_acks_after_a_kill;
    acks.insert(acks.end(), outcome.acks.begin(), outcome.acks.end());

    problems bad;
    seen = verify(data, acks, seen, bad);
    INFO(bad.text());
    REQUIRE(bad.total == 0);
  }
  // Without this the test could pass by never writing: e.g. a writer lock left held by a
  // killed child would silently stall every later child (and hang the append below).
  REQUIRE(rounds_with_acks_after_a_kill > 0);
  INFO("acknowledged batches " << acks.size() << ", events " << seen.size());

  // The journal stays writable after the last kill and continues the numbering.
  {
    store_options o;
    o.dir = data;
    auto store = event_store::open(o);
    REQUIRE(store);
    auto head = (*store)->stream_head("crash-0");
    REQUIRE(head);
    const uint64_t run = base_seed + rounds + 1;
    crash_payload p{run, 1, 0, 1, crash_filler(run, 1, 0)};
    auto bytes = to_bytes(p);
    REQUIRE(bytes);
    new_event e;
    e.type = crash_event_type;
    e.payload = std::move(*bytes);
    e.metadata.command_id = std::to_string(run) + ":1";
    auto r = (*store)->append("crash-0", expected_version::exact(head->head), {e});
    REQUIRE(r);
    CHECK(r->next_expected_version == head->head + 1);
    CHECK(r->first_position == (seen.empty() ? 0 : seen.back().position) + 1);
    acks.push_back({run, 1, "crash-0", head->head + 1, 1, r->first_position, r->last_position});
  }
  problems bad;
  verify(data, acks, seen, bad);
  INFO(bad.text());
  CHECK(bad.total == 0);
}

TEST_CASE("a store killed after creating its file, before its first commit, reads as no store and "
          "opens for writing as a fresh one",
          "[crash]") {
  test::temp_dir dir;
  const auto data = dir / "journal";
  std::filesystem::create_directories(data);
  // What a writer killed inside its first open leaves: LMDB's file with its meta pages only.
  MDB_env* env = nullptr;
  REQUIRE(mdb_env_create(&env) == 0);
  REQUIRE(mdb_env_open(env, data.c_str(), 0, 0644) == 0);
  mdb_env_close(env);
  REQUIRE(std::filesystem::exists(data / "data.mdb"));

  store_options o;
  o.dir = data;
  o.read_only = true;
  auto reader = event_store::open(o);
  REQUIRE_FALSE(reader);
  CHECK(reader.error().code == errc::not_found); // was corrupt: "not an Annal store"
  o.read_only = false;
  auto writer = event_store::open(o);
  REQUIRE(writer);
  new_event e;
  e.type = "t";
  e.payload = "p";
  std::vector<new_event> events{e};
  CHECK((*writer)->append("s-1", expected_version::no_stream(), events));
}
