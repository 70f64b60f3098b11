// Damage to stored bytes: bit rot or a stray write must surface as errc::corrupt (or
// corrupt = true) on exactly the damaged record, and never as a valid record with other
// content. The on-disk tests edit data.mdb of a closed store directly; the codec tests
// flip every byte of an encoded record.
#include <catch2/catch.hpp>

#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "annal/event_registry.hpp"
#include "annal/event_store.hpp"
#include "annal/serialization.hpp"
#include "envelope_codec.hpp"
#include "snapshot_codec.hpp"
#include "temp_dir.hpp"

using namespace annal;

namespace {

struct marked_event {
  static constexpr std::string_view event_type = "MarkedEvent";
  uint64_t seq = 0;
  std::string marker; // the whole string is the marker, so its size tag precedes it
  std::vector<std::string> tags;

  template <class Archive>
  void serialize(Archive& ar) {
    ar(CEREAL_NVP(seq), CEREAL_NVP(marker), CEREAL_NVP(tags));
  }
};

// A marker that occurs nowhere else in the file (random, so no stale test data matches).
std::string unique_marker(const std::string& what) {
  static std::mt19937_64 rng{std::random_device{}()};
  static constexpr char hex[] = "0123456789abcdef";
  std::string m = "MARKER-" + what + "-";
  for (int i = 0; i < 24; ++i)
    m += hex[rng() % 16];
  return m;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in{p, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

void write_file(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream out{p, std::ios::binary | std::ios::trunc};
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

// XORs `mask` into the byte at `offset` from the start of every occurrence of `marker` in
// `file` (offset may be negative: bytes just before the marker). Copy-on-write can leave
// stale copies of a page in free pages; flipping those as well is harmless. Returns how
// many occurrences were flipped.
std::size_t flip_at_marker(const std::filesystem::path& file, const std::string& marker,
                           std::ptrdiff_t offset, unsigned char mask) {
  auto bytes = read_file(file);
  std::size_t n = 0;
  for (auto at = bytes.find(marker); at != std::string::npos; at = bytes.find(marker, at + 1)) {
    auto& b = bytes[static_cast<std::size_t>(static_cast<std::ptrdiff_t>(at) + offset)];
    b = static_cast<char>(static_cast<unsigned char>(b) ^ mask);
    ++n;
  }
  write_file(file, bytes);
  return n;
}

new_event make_event(const marked_event& m) {
  auto bytes = to_bytes(m);
  REQUIRE(bytes);
  new_event e;
  e.type = std::string{marked_event::event_type};
  e.payload = std::move(*bytes);
  e.metadata = {"cmd-" + std::to_string(m.seq), "corr", "cause"};
  return e;
}

} // namespace

TEST_CASE("a payload byte flipped on disk reads back as corrupt for that event only",
          "[corruption]") {
  // Inside the marker text only the checksum can notice; in the string's size tag the
  // payload itself no longer decodes either. Both must be flagged the same way.
  enum class where { marker_text, size_tag };
  const auto flip = GENERATE(where::marker_text, where::size_tag);
  INFO((flip == where::marker_text ? "flip inside the marker text" : "flip in its size tag"));

  test::temp_dir dir;
  std::vector<marked_event> originals;
  {
    auto store = event_store::open({dir.path()});
    REQUIRE(store);
    // One transaction, so that every event's bytes are written to the file once.
    std::vector<stream_append> appends(2);
    appends[0].stream_id = "acct-1";
    appends[1].stream_id = "acct-2";
    for (uint64_t seq = 1; seq <= 7; ++seq) {
      marked_event m{seq, unique_marker(std::to_string(seq)), {"a", "bb", std::string(40, 'c')}};
      appends[seq <= 4 ? 0 : 1].events.push_back(make_event(m));
      originals.push_back(m);
    }
    REQUIRE((*store)->append(std::move(appends)));
  }
  // acct-1 holds seq 1..4 at positions 1..4, acct-2 seq 5..7 at 5..7; damage acct-1 v3.
  const std::size_t target = 2;
  const auto& damaged_marker = originals[target].marker;
  const auto flipped = flip == where::marker_text
                         ? flip_at_marker(dir / "data.mdb", damaged_marker, 10, 0x20)
                         : flip_at_marker(dir / "data.mdb", damaged_marker, -1, 0x80);
  REQUIRE(flipped >= 1);

  auto store = event_store::open({dir.path()});
  REQUIRE(store);
  auto& s = **store;
  event_registry registry;
  registry.add<marked_event>();

  auto check_intact = [&](const recorded_event& e, std::size_t i) {
    INFO("position " << e.position);
    CHECK_FALSE(e.corrupt);
    auto m = registry.decode<marked_event>(e);
    REQUIRE(m);
    CHECK(m->seq == originals[i].seq);
    CHECK(m->marker == originals[i].marker);
    CHECK(m->tags == originals[i].tags);
    CHECK(e.metadata.command_id == "cmd-" + std::to_string(originals[i].seq));
  };
  auto check_damaged = [&](const recorded_event& e) {
    CHECK(e.corrupt);
    CHECK(e.position == target + 1);
    CHECK(registry.decode<marked_event>(e).code() == errc::corrupt);
    auto raw = from_bytes<marked_event>(e.payload);
    if (flip == where::size_tag) {
      CHECK(raw.code() == errc::corrupt);
      CHECK(registry.to_json(e.type, e.schema_version, e.payload).code() == errc::corrupt);
    } else {
      // The bytes still parse, into other content: the checksum is the only guard here.
      REQUIRE(raw);
      CHECK(raw->marker != damaged_marker);
    }
  };

  SECTION("read_stream flags the damaged event and returns its neighbours intact") {
    auto one = s.read_stream("acct-1");
    REQUIRE(one);
    REQUIRE(one->size() == 4);
    for (std::size_t i = 0; i < 4; ++i) {
      CHECK((*one)[i].stream_id == "acct-1");
      CHECK((*one)[i].version == i + 1);
      if (i == target)
        check_damaged((*one)[i]);
      else
        check_intact((*one)[i], i);
    }
    auto two = s.read_stream("acct-2");
    REQUIRE(two);
    REQUIRE(two->size() == 3);
    for (std::size_t i = 0; i < 3; ++i)
      check_intact((*two)[i], 4 + i);
  }

  SECTION("read_stream_backward flags the same event") {
    auto back = s.read_stream_backward("acct-1", 0, 10);
    REQUIRE(back);
    REQUIRE(back->size() == 4);
    for (std::size_t i = 0; i < 4; ++i) {
      const auto original = 3 - i;
      if (original == target)
        check_damaged((*back)[i]);
      else
        check_intact((*back)[i], original);
    }
  }

  SECTION("read_all flags the damaged event and returns every other one intact") {
    auto all = s.read_all(0, 100);
    REQUIRE(all);
    REQUIRE(all->size() == originals.size());
    for (std::size_t i = 0; i < all->size(); ++i) {
      CHECK((*all)[i].position == i + 1);
      if (i == target)
        check_damaged((*all)[i]);
      else
        check_intact((*all)[i], i);
    }
  }

  SECTION("the store still appends after the damaged event") {
    auto r = s.append("acct-1", expected_version::exact(4),
                      {make_event({8, unique_marker("8"), {}})});
    REQUIRE(r);
    CHECK(r->first_position == originals.size() + 1);
    auto tail = s.read_stream("acct-1", stream_range{5});
    REQUIRE(tail);
    REQUIRE(tail->size() == 1);
    CHECK_FALSE(tail->front().corrupt);
  }
}

TEST_CASE("no single-byte flip of an encoded envelope decodes as an intact event",
          "[corruption]") {
  new_event e;
  e.type = "OrderPlaced";
  e.schema_version = 3;
  e.payload = std::string{"payload\0\x01\x02\xff bytes", 18};
  e.metadata = {"command-1", "correlation-22", "causation-333"};
  const std::string stream = "order-42";
  const global_position position = 1234567;
  const stream_version version = 99;
  const timestamp_ns ts = 1'700'000'000'123'456'789;

  std::string bytes(detail::envelope_size(stream, e), '\0');
  detail::encode_envelope(bytes.data(), position, stream, version, ts, e);

  event_view v;
  REQUIRE(detail::decode_envelope(position, bytes, v));
  REQUIRE_FALSE(v.corrupt);
  CHECK(v.stream_id == stream);
  CHECK(v.version == version);
  CHECK(v.position == position);
  CHECK(v.type == e.type);
  CHECK(v.schema_version == e.schema_version);
  CHECK(v.timestamp == ts);
  CHECK(v.command_id == e.metadata.command_id);
  CHECK(v.correlation_id == e.metadata.correlation_id);
  CHECK(v.causation_id == e.metadata.causation_id);
  CHECK(v.payload == e.payload);

  // Counted rather than asserted per flip: hundreds of flips, one summary.
  std::vector<std::string> accepted;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    for (unsigned mask : {0x01u, 0x10u, 0x80u, 0xffu}) {
      auto damaged = bytes;
      damaged[i] = static_cast<char>(static_cast<unsigned char>(damaged[i]) ^ mask);
      event_view d;
      const bool parsed = detail::decode_envelope(position, damaged, d);
      if (parsed && !d.corrupt)
        accepted.push_back("byte " + std::to_string(i) + " ^ " + std::to_string(mask));
      if (!parsed)
        CHECK(d.corrupt); // a structural failure is flagged too, not only returned
    }
  }
  INFO("flips decoded as intact: " << accepted.size()
       << (accepted.empty() ? "" : ", first: " + accepted.front()));
  CHECK(accepted.empty());

  SECTION("a record under another position fails its check") {
    event_view d;
    const bool parsed = detail::decode_envelope(position + 1, bytes, d);
    CHECK((!parsed || d.corrupt));
    CHECK(d.position == position + 1);
  }
  SECTION("a truncated or extended record does not parse") {
    event_view d;
    const std::string_view all{bytes};
    CHECK_FALSE(detail::decode_envelope(position, all.substr(0, all.size() - 1), d));
    CHECK(d.corrupt);
    CHECK_FALSE(detail::decode_envelope(position, bytes + '\0', d));
    CHECK(d.corrupt);
    CHECK_FALSE(detail::decode_envelope(position, all.substr(0, 20), d));
    CHECK(d.corrupt);
  }
}

TEST_CASE("no single-byte flip of an encoded snapshot decodes", "[corruption]") {
  snapshot_record s;
  s.stream_id = "acct-9";
  s.version = 17;
  s.timestamp = 1'700'000'000'000'000'001;
  s.type = "AccountState";
  s.schema_version = 4;
  s.state = std::string{"state\0bytes\xfe", 12};
  const auto bytes = detail::encode_snapshot(s);

  snapshot_record out;
  REQUIRE(detail::decode_snapshot(s.stream_id, s.version, bytes, out));
  CHECK(out.stream_id == s.stream_id);
  CHECK(out.version == s.version);
  CHECK(out.timestamp == s.timestamp);
  CHECK(out.type == s.type);
  CHECK(out.schema_version == s.schema_version);
  CHECK(out.state == s.state);

  std::vector<std::string> accepted;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    for (unsigned mask : {0x01u, 0x10u, 0x80u, 0xffu}) {
      auto damaged = bytes;
      damaged[i] = static_cast<char>(static_cast<unsigned char>(damaged[i]) ^ mask);
      snapshot_record d;
      if (detail::decode_snapshot(s.stream_id, s.version, damaged, d))
        accepted.push_back("byte " + std::to_string(i) + " ^ " + std::to_string(mask));
    }
  }
  INFO("flips decoded: " << accepted.size()
       << (accepted.empty() ? "" : ", first: " + accepted.front()));
  CHECK(accepted.empty());
  // The key carries the version: a snapshot filed under another version is damage too.
  CHECK_FALSE(detail::decode_snapshot(s.stream_id, s.version + 1, bytes, out));
}

TEST_CASE("a snapshot whose state is damaged on disk loads as errc::corrupt", "[corruption]") {
  test::temp_dir dir;
  const auto damaged_marker = unique_marker("snap-5");
  const auto older_state = unique_marker("snap-3");
  const auto other_state = unique_marker("other");
  {
    auto store = event_store::open({dir.path()});
    REQUIRE(store);
    // One transaction, so that each state's bytes are written to the file once.
    write_batch batch;
    batch.snapshots.push_back({"acct-1", 3, 0, "AccountState", 1, older_state});
    batch.snapshots.push_back({"acct-1", 5, 0, "AccountState", 1, "state:" + damaged_marker});
    batch.snapshots.push_back({"acct-2", 2, 0, "AccountState", 1, other_state});
    auto r = (*store)->commit(batch);
    REQUIRE(r);
  }
  REQUIRE(flip_at_marker(dir / "data.mdb", damaged_marker, 5, 0x01) >= 1);

  auto store = event_store::open({dir.path()});
  REQUIRE(store);
  auto& s = **store;

  auto newest = s.load_snapshot("acct-1");
  CHECK(newest.code() == errc::corrupt);

  // The damage stays with that one snapshot: an older one and other streams still load,
  // so a caller can fall back to them (or to a full replay).
  snapshot_bounds before_damage;
  before_damage.max_version = 4;
  auto older = s.load_snapshot("acct-1", before_damage);
  REQUIRE(older);
  REQUIRE(older->has_value());
  CHECK((*older)->version == 3);
  CHECK((*older)->state == older_state);

  auto other = s.load_snapshot("acct-2");
  REQUIRE(other);
  REQUIRE(other->has_value());
  CHECK((*other)->state == other_state);
}
