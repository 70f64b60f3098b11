// Writes the small store checked in as tests/data/format2_store (journal format 2, built
// with the code of main before format 3) and the text of every read of it
// (format2_store.txt, see store_dump.hpp). Deterministic apart from LMDB's free pages and
// the node id. Usage: make_format2_store DIR DUMP_FILE
#include <cstdio>
#include <fstream>
#include <iostream>

#include "annal/event_store.hpp"
#include "store_dump.hpp"

using namespace annal;

namespace {

new_event event_of(int stream, int n) {
  new_event e;
  e.type = n % 3 == 0 ? "ItemAdded" : (n % 3 == 1 ? "PriceChanged" : "Note");
  e.schema_version = 1 + n % 2;
  e.payload = "payload-" + std::to_string(stream) + "-" + std::to_string(n);
  e.payload += std::string(static_cast<std::size_t>(n % 7), static_cast<char>(n));
  e.metadata.command_id = "cmd-" + std::to_string(stream * 1000 + n);
  e.metadata.correlation_id = n % 2 == 0 ? "corr-" + std::to_string(stream) : "";
  e.metadata.causation_id = n % 5 == 0 ? "cause-" + std::to_string(n) : "";
  e.timestamp = 1700000000000000000 + stream * 1000000 + n;
  return e;
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: make_format2_store DIR DUMP_FILE\n";
    return 2;
  }
  store_options o;
  o.dir = argv[1];
  o.initial_map_size = std::size_t{1} << 20;
  auto store = event_store::open(o).value();
  // 300 events over 12 streams, appended in interleaved batches of 1..4 events.
  int written = 0;
  for (int round = 0; written < 300; ++round) {
    write_batch batch;
    for (int s = 0; s < 12 && written < 300; ++s) {
      if ((round + s) % 3 == 0)
        continue;
      stream_append a;
      a.stream_id = (s % 2 == 0 ? "order-" : "cart-") + std::to_string(s);
      for (int k = 0; k <= (round + s) % 4 && written < 300; ++k, ++written)
        a.events.push_back(event_of(s, written));
      batch.appends.push_back(std::move(a));
    }
    if (round % 4 == 1)
      batch.snapshots.push_back(snapshot_record{"order-" + std::to_string(2 * (round % 6)), 1,
                                                1700000000000000000 + round, "OrderState", 1,
                                                "state-" + std::to_string(round)});
    if (!store->commit(batch))
      return 1;
  }
  if (!store->truncate_stream("order-4", 9) || !store->truncate_stream("cart-5", 1000)
      || !store->delete_stream("cart-7") || !store->save_snapshot({"cart-9", 3, 1700000000000000042,
                                                                    "CartState", 2, "cart-state"}))
    return 1;
  std::ofstream{argv[2]} << test_data::dump_store(*store);
  return 0;
}
