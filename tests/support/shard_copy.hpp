// Copying a shard between two runtimes without the cluster around them (what a move's pull
// does), for tests of the runtime's side of shard moves.
#pragma once

#include <catch2/catch.hpp>

#include <future>

#include "annal/runtime.hpp"

namespace annal::test {

/// Copies `shard` of `from` into `to` through `to`'s journal writer, in chunks of 5 events;
/// returns the outcome of the copy as a whole (the last position and head, the count).
inline import_outcome copy_shard(event_store& from, runtime& to, uint16_t shard) {
  import_outcome last;
  uint64_t after = 0;
  global_position hint = 0;
  for (int round = 0; round < 1000; ++round) {
    shard_range r;
    r.shard = shard;
    r.after = after;
    r.max_count = 5;
    r.from_position = hint;
    auto c = from.read_shard(r);
    REQUIRE(c);
    shard_import chunk;
    chunk.shard = shard;
    for (const auto& e : c->events.events())
      chunk.events.push_back(e.to_owned());
    if (!chunk.events.empty())
      after = chunk.events.back().shard_position;
    if (c->at_end)
      chunk.source_head = c->head;
    std::promise<result<import_outcome>> p;
    to.import_shard(std::move(chunk), [&p](result<import_outcome> got) { p.set_value(std::move(got)); });
    auto out = p.get_future().get();
    REQUIRE(out);
    if (out->last_position != 0)
      last.last_position = out->last_position;
    last.imported += out->imported;
    last.head = out->head;
    hint = c->next_hint;
    if (c->at_end)
      return last;
  }
  FAIL("the copy did not end");
  return last;
}

} // namespace annal::test
