// Fuzzes the payload decoders: annal::from_bytes<T> for realistic event types, and
// event_registry::decode / to_json through an upcaster chain. Whatever the bytes, each
// call must return a value or a documented error; a crash, a sanitizer report or an
// undocumented outcome (checked below, reported through abort()) is a finding.
//
// Input: byte 0 picks the operation (payload_op), byte 1 the schema version for the
// registry operations, the rest is the payload.
#include <cstdio>
#include <cstdlib>

#include "payload_types.hpp"

namespace {

using namespace annal;
using namespace annal::fuzz;

[[noreturn]] void fail(const char* what, const std::string& detail = {}) {
  std::fprintf(stderr, "fuzz_payload: %s %s\n", what, detail.c_str());
  std::abort();
}

// A decoded value must survive a round trip unchanged and render as JSON; both would
// otherwise mean that from_bytes accepted bytes that do not describe a T.
template <class T>
void check_value(const T& v) {
  auto bytes = to_bytes(v);
  if (!bytes)
    fail("a decoded value does not encode:", bytes.error().to_string());
  auto again = from_bytes<T>(*bytes);
  if (!again)
    fail("a re-encoded value does not decode:", again.error().to_string());
  if (!(*again == v))
    fail("a value changed in a round trip");
  auto json = to_json(v);
  if (!json)
    fail("a decoded value does not render:", json.error().to_string());
}

template <class T>
void fuzz_from_bytes(std::string_view payload) {
  auto v = from_bytes<T>(payload);
  if (v)
    check_value(*v);
  else if (v.error().code != errc::corrupt)
    fail("from_bytes failed with another code than corrupt:", v.error().to_string());
}

// The documented outcomes of decode and to_json for (type, version) of a registered
// type at current version `current` with upcasters for every older version from 1.
void check_error(const error& e, uint32_t version, uint32_t current, const char* op) {
  const bool known_version = version >= 1 && version <= current;
  const auto expected = known_version ? errc::corrupt : errc::unknown_event_type;
  if (e.code != expected)
    fail(op, "v" + std::to_string(version) + " failed with " + e.to_string());
}

template <class T>
void fuzz_decode(const event_registry& registry, uint32_t version, std::string_view payload) {
  auto v = registry.decode<T>(event_traits<T>::name, version, payload);
  if (v)
    check_value(*v);
  else
    check_error(v.error(), version, event_traits<T>::schema_version, "decode");
  // A damaged event never decodes, whatever its bytes.
  if (registry.decode<T>(event_traits<T>::name, version, payload, true).code() != errc::corrupt)
    fail("a corrupt event decoded");
}

template <class T>
void fuzz_to_json(const event_registry& registry, uint32_t version, std::string_view payload) {
  auto json = registry.to_json(event_traits<T>::name, version, payload);
  if (!json)
    check_error(json.error(), version, event_traits<T>::schema_version, "to_json");
  else if (json->empty())
    fail("to_json rendered nothing");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  static const event_registry registry = make_registry();
  if (size < 2)
    return 0;
  const auto op = static_cast<payload_op>(data[0] % static_cast<uint8_t>(payload_op::count));
  const uint32_t version = data[1] % 5; // 0 and 4 lie outside every chain
  const std::string_view payload{reinterpret_cast<const char*>(data) + 2, size - 2};
  switch (op) {
    case payload_op::from_bytes_order_v1: fuzz_from_bytes<order_placed_v1>(payload); break;
    case payload_op::from_bytes_order_v2: fuzz_from_bytes<order_placed_v2>(payload); break;
    case payload_op::from_bytes_order_v3: fuzz_from_bytes<order_placed_v3>(payload); break;
    case payload_op::from_bytes_stock: fuzz_from_bytes<stock_adjusted>(payload); break;
    case payload_op::from_bytes_renamed: fuzz_from_bytes<customer_renamed>(payload); break;
    case payload_op::decode_order: fuzz_decode<order_placed_v3>(registry, version, payload); break;
    case payload_op::decode_stock: fuzz_decode<stock_adjusted>(registry, version, payload); break;
    case payload_op::decode_renamed:
      fuzz_decode<customer_renamed>(registry, version, payload);
      break;
    case payload_op::to_json_order:
      fuzz_to_json<order_placed_v3>(registry, version, payload);
      break;
    case payload_op::to_json_stock: fuzz_to_json<stock_adjusted>(registry, version, payload); break;
    case payload_op::to_json_renamed:
      fuzz_to_json<customer_renamed>(registry, version, payload);
      break;
    case payload_op::count: break;
  }
  return 0;
}
