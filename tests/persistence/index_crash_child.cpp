// Child process of index_test.cpp: a random journal workload (group commits to many
// streams, truncations, deletions, index merges at random points) that the parent kills
// at a phase of the index merge through ANNAL_JOURNAL_CRASH_AT (see crash_point.hpp), or
// the upgrade of a format-2 journal.
//
//   index_crash_child work DATA_DIR SEED OPS MERGE_RUNS [SLICE_RUNS]
//   index_crash_child upgrade DATA_DIR
//   index_crash_child append DATA_DIR STREAM   (one event, then exit without closing)
//
// `work` prints one line per acknowledged operation with write(2) (no buffer dies with
// the process) and exits 0 after OPS operations.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "annal/event_store.hpp"

namespace {

void say(const std::string& line) {
  std::size_t done = 0;
  while (done < line.size()) {
    auto n = ::write(STDOUT_FILENO, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      std::_Exit(6);
    done += static_cast<std::size_t>(n);
  }
}

int work(const char* dir, uint64_t seed, uint64_t ops, std::size_t merge_runs, std::size_t slice_runs) {
  annal::store_options o;
  o.dir = dir;
  o.mode = annal::durability::no_sync; // a killed process loses nothing of what it committed
  o.initial_map_size = std::size_t{1} << 20;
  o.index_merge_runs = merge_runs;
  o.index_merge_runs_per_leaf = 0; // the parent's kill phases count merges
  o.index_merge_slice_runs = slice_runs;
  o.index_merge_slice_gap = 0; // the parent's kill phases count slices
  auto opened = annal::event_store::open(o);
  if (!opened) {
    std::fprintf(stderr, "open failed: %s\n", opened.error().to_string().c_str());
    return 3;
  }
  auto& store = **opened;
  std::mt19937_64 rng{seed};
  auto stream = [&] { return "s-" + std::to_string(rng() % 40); };
  for (uint64_t op = 1; op <= ops; ++op) {
    auto kind = rng() % 100;
    if (kind < 70) {
      annal::write_batch batch;
      auto appends = 1 + rng() % 8;
      for (uint64_t a = 0; a < appends; ++a) {
        annal::stream_append sa;
        sa.stream_id = stream();
        auto n = 1 + rng() % 5;
        for (uint64_t i = 0; i < n; ++i)
          sa.events.push_back(annal::new_event{"E", 1, std::to_string(seed) + ":" + std::to_string(op)
                                                       + ":" + std::to_string(i), {}, 0});
        batch.appends.push_back(std::move(sa));
      }
      auto r = store.commit(batch);
      if (!r) {
        std::fprintf(stderr, "commit failed: %s\n", r.error().to_string().c_str());
        return 4;
      }
      say("commit " + std::to_string(op) + "\n");
    } else if (kind < 82) {
      auto id = stream();
      auto head = store.stream_head(id);
      if (!head)
        return 5;
      auto r = store.truncate_stream(id, rng() % (head->head + 3));
      say("truncate " + id + (r ? " ok\n" : " " + r.error().to_string() + "\n"));
    } else if (kind < 85) {
      auto id = stream();
      auto r = store.delete_stream(id);
      say("delete " + id + (r ? " ok\n" : " " + r.error().to_string() + "\n"));
    } else {
      if (auto r = store.merge_index(); !r) {
        std::fprintf(stderr, "merge failed: %s\n", r.error().to_string().c_str());
        return 7;
      }
      say("merge\n");
    }
  }
  return 0;
}

// Appends one event to `stream` and exits without closing the store (a close would
// merge the index): another process's append, as a writer sharing the folder makes it.
int append_one(const char* dir, const char* stream) {
  annal::store_options o;
  o.dir = dir;
  o.mode = annal::durability::no_sync;
  o.index_merge_runs = std::size_t{1} << 30;
  auto opened = annal::event_store::open(o);
  if (!opened) {
    std::fprintf(stderr, "open failed: %s\n", opened.error().to_string().c_str());
    return 3;
  }
  auto r = (*opened)->append(stream, annal::expected_version::any(), {annal::new_event{"E", 1, "foreign", {}, 0}});
  if (!r) {
    std::fprintf(stderr, "append failed: %s\n", r.error().to_string().c_str());
    return 4;
  }
  std::_Exit(0);
}

int upgrade(const char* dir) {
  annal::store_options o;
  o.dir = dir;
  auto r = annal::event_store::upgrade(o, [](uint64_t done, uint64_t total) {
    say("upgraded " + std::to_string(done) + "/" + std::to_string(total) + "\n");
  });
  if (!r) {
    std::fprintf(stderr, "upgrade failed: %s\n", r.error().to_string().c_str());
    return 3;
  }
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "work" && (argc == 6 || argc == 7))
    return work(argv[2], std::strtoull(argv[3], nullptr, 10), std::strtoull(argv[4], nullptr, 10),
                std::strtoull(argv[5], nullptr, 10), argc == 7 ? std::strtoull(argv[6], nullptr, 10) : 0);
  if (mode == "upgrade" && argc == 3)
    return upgrade(argv[2]);
  if (mode == "append" && argc == 4)
    return append_one(argv[2], argv[3]);
  std::fprintf(stderr, "usage: %s work DIR SEED OPS MERGE_RUNS [SLICE_RUNS] | upgrade DIR | append DIR STREAM\n", argv[0]);
  return 2;
}
