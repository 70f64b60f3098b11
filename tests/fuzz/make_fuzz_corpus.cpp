// Writes the seed corpus of the fuzzers: valid encodings, from which libFuzzer mutates
// towards the interesting malformed ones. Usage: make_fuzz_corpus CORPUS_DIR (the folder
// holding envelope/ and payload/). Deterministic: rerunning it rewrites the same files.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "byte_order.hpp"
#include "envelope_codec.hpp"
#include "payload_types.hpp"
#include "snapshot_codec.hpp"
#include "stream_record.hpp"

namespace {

using namespace annal;
using namespace annal::fuzz;

std::filesystem::path root;

void write(const std::string& sub, const std::string& name, const std::string& bytes) {
  auto dir = root / sub;
  std::filesystem::create_directories(dir);
  std::ofstream out{dir / name, std::ios::binary | std::ios::trunc};
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out.good()) {
    std::fprintf(stderr, "cannot write %s/%s\n", sub.c_str(), name.c_str());
    std::exit(1);
  }
}

std::string key(uint64_t k) {
  std::string s(8, '\0');
  detail::store_le<uint64_t>(s.data(), k);
  return s;
}

void envelope(const std::string& name, global_position position, std::string_view stream,
              stream_version version, const new_event& e) {
  std::string bytes(detail::envelope_size(stream, e), '\0');
  detail::encode_envelope(bytes.data(), position, stream, version, 1'700'000'000'000'000'000, e);
  write("envelope", name, key(position) + bytes);
}

template <class T>
std::string encoded(const T& value) {
  auto bytes = to_bytes(value);
  if (!bytes) {
    std::fprintf(stderr, "cannot encode a seed value\n");
    std::exit(1);
  }
  return *bytes;
}

void payload(const std::string& name, payload_op op, uint32_t version, const std::string& bytes) {
  std::string in;
  in += static_cast<char>(op);
  in += static_cast<char>(version);
  write("payload", name, in + bytes);
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  root = argv[1];

  // -- envelope: events, snapshots and stream records ---------------------------------
  new_event bare;
  bare.type = "T";
  envelope("event-bare", 1, "s", 1, bare);
  new_event full;
  full.type = "OrderPlaced";
  full.schema_version = 3;
  full.payload = encoded(order_placed_v3{"o-1", "c-7", {{"sku-1", 2, 1999, {"red"}}}, 3998,
                                         {{"coupon", "X1"}}, channel::store, true});
  full.metadata = {"cmd-1", "corr-1", "cause-1"};
  envelope("event-full", 4242, "order-1", 17, full);
  new_event long_payload;
  long_payload.type = "Blob";
  long_payload.payload = std::string(300, 'x');
  envelope("event-long-payload", 0x0102030405060708, "blob-stream", 3, long_payload);

  snapshot_record snap{"acct-1", 12, 1'700'000'000'000'000'000, "AccountState", 2, "state bytes"};
  write("envelope", "snapshot", key(snap.version) + detail::encode_snapshot(snap));
  snapshot_record empty_snap{"acct-2", 1, 1, "S", 1, ""};
  write("envelope", "snapshot-empty-state", key(1) + detail::encode_snapshot(empty_snap));

  char rec[detail::stream_record_size];
  detail::encode_stream_record(rec, stream_info{"", 41, 9001, 7, false});
  write("envelope", "stream-record", key(0) + std::string(rec, sizeof rec));
  detail::encode_stream_record(rec, stream_info{"", 3, 12, 3, true});
  write("envelope", "stream-record-deleted", key(0) + std::string(rec, sizeof rec));

  // -- payload: every operation on a valid payload of its type --------------------------
  const order_placed_v1 v1{"o-1", {"sku-1", "sku-2"}, 2500};
  const order_placed_v2 v2{"o-2", {{"sku-1", 1, 1000, {}}, {"sku-9", 3, 500, {"xl", "blue"}}},
                           2500};
  const order_placed_v3 v3{"o-3", "c-1", {{"sku-1", 1, 1000, {"gift-wrap"}}}, 1000,
                           {{"coupon", "SPRING"}, {"source", "app"}}, channel::phone, false};
  const stock_adjusted stock{-2, 7, -40, 123456, 12.5, {{"A-1", 10}, {"B-2", -3}},
                             {{"counted", "by bob"}, {}, {"recounted"}}};
  const customer_renamed renamed{"c-1", "Ada Lovelace"};
  const std::string renamed_v1 = encoded(std::string{"Ada"});

  payload("order-v1", payload_op::from_bytes_order_v1, 1, encoded(v1));
  payload("order-v2", payload_op::from_bytes_order_v2, 2, encoded(v2));
  payload("order-v3", payload_op::from_bytes_order_v3, 3, encoded(v3));
  payload("stock", payload_op::from_bytes_stock, 1, encoded(stock));
  payload("renamed", payload_op::from_bytes_renamed, 2, encoded(renamed));
  payload("decode-order-v1", payload_op::decode_order, 1, encoded(v1));
  payload("decode-order-v2", payload_op::decode_order, 2, encoded(v2));
  payload("decode-order-v3", payload_op::decode_order, 3, encoded(v3));
  payload("decode-stock", payload_op::decode_stock, 1, encoded(stock));
  payload("decode-renamed-v1", payload_op::decode_renamed, 1, renamed_v1);
  payload("decode-renamed-v2", payload_op::decode_renamed, 2, encoded(renamed));
  payload("json-order-v1", payload_op::to_json_order, 1, encoded(v1));
  payload("json-order-v3", payload_op::to_json_order, 3, encoded(v3));
  payload("json-stock", payload_op::to_json_stock, 1, encoded(stock));
  payload("json-renamed-v1", payload_op::to_json_renamed, 1, renamed_v1);
  return 0;
}
