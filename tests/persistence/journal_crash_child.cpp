// Child process of crash_test.cpp: appends batches to a durable store until the parent
// kills it with SIGKILL, reporting every acknowledged batch on stdout.
//
//   journal_crash_child DATA_DIR SEED
//
// Each event's payload is a crash_payload naming its run (the seed),
// batch, index and batch size, so that the parent can tell a complete batch from a
// partial one without trusting anything the store reports. After append() returns
// success the child writes one line (well under PIPE_BUF, so a single atomic write)
//
//   batch_no stream first_version count first_position last_position
//
// with write(2) rather than stdio: a buffered line would die with the process, and the
// parent would wrongly count an acknowledged batch as unacknowledged.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include <cereal/types/string.hpp>

#include "annal/event_store.hpp"
#include "annal/serialization.hpp"

namespace {

// The same definitions sit in crash_test.cpp, which decodes what this program writes; a
// drift between the two makes every decode there fail rather than pass silently.
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
constexpr uint64_t crash_streams = 5;

// Payloads of varying length, so that events straddle LMDB page boundaries differently.
std::string crash_filler(uint64_t run, uint64_t batch, uint32_t index) {
  std::string s((run + batch * 31 + index * 7) % 97, 'a');
  for (std::size_t j = 0; j < s.size(); ++j)
    s[j] = static_cast<char>('a' + (j + index) % 26);
  return s;
}

bool write_all(int fd, const std::string& s) {
  std::size_t done = 0;
  while (done < s.size()) {
    auto n = ::write(fd, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s DATA_DIR SEED\n", argv[0]);
    return 2;
  }
  const uint64_t seed = std::strtoull(argv[2], nullptr, 10);
  annal::store_options options;
  options.dir = argv[1];
  options.mode = annal::durability::durable;
  // A small initial map makes the store grow its map now and then across the rounds, so
  // that some kills land around a resize as well as around ordinary commits.
  options.initial_map_size = std::size_t{1} << 20;
  auto opened = annal::event_store::open(options);
  if (!opened) {
    std::fprintf(stderr, "crash child: open failed: %s\n", opened.error().to_string().c_str());
    return 3;
  }
  auto& store = **opened;
  std::mt19937_64 rng{seed};
  for (uint64_t batch_no = 1;; ++batch_no) {
    const auto stream = "crash-" + std::to_string(rng() % crash_streams);
    const auto count = static_cast<uint32_t>(1 + rng() % 20);
    std::vector<annal::new_event> events;
    events.reserve(count);
    for (uint32_t i = 0; i < count; ++i) {
      crash_payload p{seed, batch_no, i, count, crash_filler(seed, batch_no, i)};
      auto bytes = annal::to_bytes(p);
      if (!bytes) {
        std::fprintf(stderr, "crash child: encode failed\n");
        return 4;
      }
      annal::new_event e;
      e.type = crash_event_type;
      e.payload = std::move(*bytes);
      e.metadata.command_id = std::to_string(seed) + ':' + std::to_string(batch_no);
      events.push_back(std::move(e));
    }
    auto r = store.append(stream, annal::expected_version::any(), std::move(events));
    if (!r) {
      std::fprintf(stderr, "crash child: append failed: %s\n", r.error().to_string().c_str());
      return 5;
    }
    const auto line = std::to_string(batch_no) + ' ' + stream + ' '
                      + std::to_string(r->next_expected_version - count + 1) + ' '
                      + std::to_string(count) + ' ' + std::to_string(r->first_position) + ' '
                      + std::to_string(r->last_position) + '\n';
    if (!write_all(STDOUT_FILENO, line))
      return 6;
  }
}
