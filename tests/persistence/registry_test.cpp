// The event registry and payload serialization: byte round-trips, upcasting chains,
// unknown types, damaged or hostile payloads and JSON rendering.
#include <catch2/catch.hpp>

#include <cereal/archives/binary.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include <cstdint>
#include <limits>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "annal/event_registry.hpp"
#include "annal/event_store.hpp"
#include "annal/serialization.hpp"
#include "temp_dir.hpp"

using namespace annal;
using Catch::Matchers::Contains;

namespace {

// Three schema versions of one event type.
struct item_added_v1 {
  static constexpr std::string_view event_type = "ItemAdded";
  static constexpr uint32_t schema_version = 1;
  std::string sku;
  template <class A>
  void serialize(A& a) {
    a(CEREAL_NVP(sku));
  }
};

struct item_added_v2 {
  static constexpr std::string_view event_type = "ItemAdded";
  static constexpr uint32_t schema_version = 2;
  std::string sku;
  int32_t qty = 0;
  template <class A>
  void serialize(A& a) {
    a(CEREAL_NVP(sku), CEREAL_NVP(qty));
  }
};

struct item_added_v3 {
  static constexpr std::string_view event_type = "ItemAdded";
  static constexpr uint32_t schema_version = 3;
  std::string sku;
  int32_t qty = 0;
  std::vector<std::string> tags;
  template <class A>
  void serialize(A& a) {
    a(CEREAL_NVP(sku), CEREAL_NVP(qty), CEREAL_NVP(tags));
  }
};

struct order_placed {
  static constexpr std::string_view event_type = "OrderPlaced";
  // no schema_version: defaults to 1
  std::string order_id;
  uint64_t amount_cents = 0;
  std::vector<uint32_t> lines;
  template <class A>
  void serialize(A& a) {
    a(CEREAL_NVP(order_id), CEREAL_NVP(amount_cents), CEREAL_NVP(lines));
  }
};

struct refuses_to_serialize {
  static constexpr std::string_view event_type = "Refuses";
  int x = 0;
  template <class A>
  void serialize(A&) {
    throw std::runtime_error("no thanks");
  }
};

item_added_v2 v1_to_v2(item_added_v1 old) {
  return item_added_v2{std::move(old.sku), 1};
}

item_added_v3 v2_to_v3(item_added_v2 old) {
  return item_added_v3{std::move(old.sku), old.qty, {"migrated"}};
}

// A registry holding ItemAdded at v3 with the full upcasting chain, and OrderPlaced.
event_registry full_registry() {
  event_registry reg;
  reg.add<item_added_v3>();
  reg.add_upcaster<item_added_v1, item_added_v2>("ItemAdded", 1, v1_to_v2);
  reg.add_upcaster<item_added_v2, item_added_v3>("ItemAdded", 2, v2_to_v3);
  reg.add<order_placed>();
  return reg;
}

template <class T>
std::string bytes_of(const T& value) {
  auto b = to_bytes(value);
  REQUIRE(b);
  return std::move(*b);
}

recorded_event recorded(std::string type, uint32_t version, std::string payload) {
  recorded_event e;
  e.stream_id = "cart-1";
  e.version = 1;
  e.position = 1;
  e.type = std::move(type);
  e.schema_version = version;
  e.payload = std::move(payload);
  return e;
}

std::string le64(uint64_t x) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) {
    out[static_cast<std::size_t>(i)] = static_cast<char>(x & 0xff);
    x >>= 8;
  }
  return out;
}

// An allocator that remembers the largest request made through it, to prove that a
// hostile size tag never reaches an allocation.
std::size_t largest_request = 0;

template <class T>
struct counting_allocator {
  using value_type = T;
  counting_allocator() = default;
  template <class U>
  counting_allocator(const counting_allocator<U>&) noexcept {}
  T* allocate(std::size_t n) {
    largest_request = std::max(largest_request, n * sizeof(T));
    return std::allocator<T>{}.allocate(n);
  }
  void deallocate(T* p, std::size_t n) noexcept { std::allocator<T>{}.deallocate(p, n); }
  template <class U>
  bool operator==(const counting_allocator<U>&) const noexcept { return true; }
  template <class U>
  bool operator!=(const counting_allocator<U>&) const noexcept { return false; }
};

using counted_string = std::basic_string<char, std::char_traits<char>, counting_allocator<char>>;

struct counted_payload {
  static constexpr std::string_view event_type = "Counted";
  counted_string name;
  std::vector<uint64_t, counting_allocator<uint64_t>> numbers;
  template <class A>
  void serialize(A& a) {
    a(CEREAL_NVP(name), CEREAL_NVP(numbers));
  }
};

} // namespace

TEST_CASE("event traits take the type name and schema version from the type", "[registry]") {
  STATIC_REQUIRE(event_traits<item_added_v3>::name == "ItemAdded");
  STATIC_REQUIRE(event_traits<item_added_v3>::schema_version == 3);
  STATIC_REQUIRE(event_traits<order_placed>::name == "OrderPlaced");
  STATIC_REQUIRE(event_traits<order_placed>::schema_version == 1);
}

TEST_CASE("to_bytes and from_bytes round-trip an event", "[registry][serialization]") {
  item_added_v3 in{std::string("sku\0with nul", 12), -42, {"a", "", std::string(300, 't')}};
  auto bytes = bytes_of(in);
  auto out = from_bytes<item_added_v3>(bytes);
  REQUIRE(out);
  CHECK(out->sku == in.sku);
  CHECK(out->qty == -42);
  CHECK(out->tags == in.tags);

  order_placed o{"o-1", 123456789012345ull, {1, 2, 3, 0xffffffffu}};
  auto ob = from_bytes<order_placed>(bytes_of(o));
  REQUIRE(ob);
  CHECK(ob->order_id == "o-1");
  CHECK(ob->amount_cents == 123456789012345ull);
  CHECK(ob->lines == o.lines);

  // append_bytes appends after what the buffer held.
  std::string buf = "prefix";
  REQUIRE(append_bytes(in, buf));
  CHECK(buf == "prefix" + bytes);
}

TEST_CASE("stored payloads are plain cereal binary", "[registry][serialization]") {
  item_added_v3 in{"abc", 7, {"x", "yz"}};
  auto bytes = bytes_of(in);
  std::istringstream is{bytes};
  item_added_v3 out;
  {
    cereal::BinaryInputArchive ar{is};
    ar(out);
  }
  CHECK(out.sku == "abc");
  CHECK(out.qty == 7);
  CHECK(out.tags == std::vector<std::string>{"x", "yz"});
  std::ostringstream os;
  {
    cereal::BinaryOutputArchive ar{os};
    ar(in);
  }
  CHECK(os.str() == bytes);
}

TEST_CASE("a throwing serialize function gives bad_request and leaves the buffer as it was",
          "[registry][serialization]") {
  auto r = to_bytes(refuses_to_serialize{});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::bad_request);
  CHECK_THAT(r.error().message, Contains("no thanks"));
  std::string buf = "keep";
  auto ok = append_bytes(refuses_to_serialize{}, buf);
  REQUIRE_FALSE(ok);
  CHECK(buf == "keep");
}

TEST_CASE("an event written as v1 reads back as v3 through the upcaster chain",
          "[registry][upcast]") {
  test::temp_dir dir;
  store_options o;
  o.dir = dir.path();
  auto opened = event_store::open(o);
  REQUIRE(opened);
  auto& s = **opened;
  auto reg = full_registry();

  std::vector<new_event> evs(3);
  evs[0] = new_event{"ItemAdded", 1, bytes_of(item_added_v1{"abc"}), {}, 0};
  evs[1] = new_event{"ItemAdded", 2, bytes_of(item_added_v2{"def", 5}), {}, 0};
  evs[2] = new_event{"ItemAdded", 3, bytes_of(item_added_v3{"ghi", 9, {"new"}}), {}, 0};
  REQUIRE(s.append("cart-1", expected_version::no_stream(), std::move(evs)));
  auto back = s.read_stream("cart-1");
  REQUIRE(back);
  REQUIRE(back->size() == 3);
  CHECK((*back)[0].schema_version == 1);

  auto v1 = reg.decode<item_added_v3>((*back)[0]);
  REQUIRE(v1);
  CHECK(v1->sku == "abc");
  CHECK(v1->qty == 1);
  CHECK(v1->tags == std::vector<std::string>{"migrated"});

  auto v2 = reg.decode<item_added_v3>((*back)[1]);
  REQUIRE(v2);
  CHECK(v2->sku == "def");
  CHECK(v2->qty == 5);
  CHECK(v2->tags == std::vector<std::string>{"migrated"});

  auto v3 = reg.decode<item_added_v3>((*back)[2]);
  REQUIRE(v3);
  CHECK(v3->sku == "ghi");
  CHECK(v3->qty == 9);
  CHECK(v3->tags == std::vector<std::string>{"new"});

  // upcast() alone yields the v3 bytes.
  auto up = reg.upcast("ItemAdded", 1, bytes_of(item_added_v1{"abc"}));
  REQUIRE(up);
  CHECK(*up == bytes_of(item_added_v3{"abc", 1, {"migrated"}}));
  // The current version needs no upcasting.
  auto same = reg.upcast("ItemAdded", 3, "as-is");
  REQUIRE(same);
  CHECK(*same == "as-is");
}

TEST_CASE("a missing link of the upcaster chain gives unknown_event_type",
          "[registry][upcast]") {
  event_registry reg;
  reg.add<item_added_v3>();
  reg.add_upcaster<item_added_v2, item_added_v3>("ItemAdded", 2, v2_to_v3);
  auto e = recorded("ItemAdded", 1, bytes_of(item_added_v1{"abc"}));
  auto r = reg.decode<item_added_v3>(e);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::unknown_event_type);
  // v2 still upcasts through the link that exists.
  auto ok = reg.decode<item_added_v3>(recorded("ItemAdded", 2, bytes_of(item_added_v2{"x", 3})));
  REQUIRE(ok);
  CHECK(ok->qty == 3);

  event_registry head_missing;
  head_missing.add<item_added_v3>();
  head_missing.add_upcaster<item_added_v1, item_added_v2>("ItemAdded", 1, v1_to_v2);
  auto r2 = head_missing.decode<item_added_v3>(e);
  REQUIRE_FALSE(r2);
  CHECK(r2.error().code == errc::unknown_event_type);
  auto json = head_missing.to_json("ItemAdded", 1, e.payload);
  REQUIRE_FALSE(json);
  CHECK(json.error().code == errc::unknown_event_type);
}

TEST_CASE("a schema version newer than the registered one gives unknown_event_type",
          "[registry][upcast]") {
  auto reg = full_registry();
  auto r = reg.decode<item_added_v3>(recorded("ItemAdded", 4, bytes_of(item_added_v3{"a", 1, {}})));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::unknown_event_type);
}

TEST_CASE("an unknown event type gives unknown_event_type", "[registry]") {
  auto reg = full_registry();
  CHECK(reg.contains("ItemAdded"));
  CHECK(reg.contains("OrderPlaced"));
  CHECK_FALSE(reg.contains("Nope"));
  auto cv = reg.current_version("ItemAdded");
  REQUIRE(cv);
  CHECK(*cv == 3);
  CHECK(reg.current_version("Nope").code() == errc::unknown_event_type);
  CHECK(reg.upcast("Nope", 1, "x").code() == errc::unknown_event_type);
  CHECK(reg.to_json("Nope", 1, "x").code() == errc::unknown_event_type);
  // Decoding an event of another type as T.
  auto other = reg.decode<item_added_v3>(recorded("Nope", 3, bytes_of(item_added_v3{})));
  REQUIRE_FALSE(other);
  CHECK(other.error().code == errc::unknown_event_type);
  auto wrong = reg.decode<order_placed>(recorded("ItemAdded", 3, bytes_of(item_added_v3{})));
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().code == errc::unknown_event_type);
  // An upcaster alone does not register a type.
  event_registry only_upcaster;
  only_upcaster.add_upcaster<item_added_v1, item_added_v2>("ItemAdded", 1, v1_to_v2);
  CHECK_FALSE(only_upcaster.contains("ItemAdded"));
  CHECK(only_upcaster.upcast("ItemAdded", 1, bytes_of(item_added_v1{"a"})).code()
        == errc::unknown_event_type);
}

TEST_CASE("an undecodable payload gives corrupt, never a crash", "[registry][serialization]") {
  auto reg = full_registry();
  auto good = bytes_of(item_added_v3{"abcdef", 7, {"x", "y"}});
  SECTION("every truncation") {
    for (std::size_t n = 0; n < good.size(); ++n) {
      INFO("truncated to " << n);
      auto r = from_bytes<item_added_v3>(std::string_view{good}.substr(0, n));
      REQUIRE_FALSE(r);
      CHECK(r.error().code == errc::corrupt);
      auto d = reg.decode<item_added_v3>(recorded("ItemAdded", 3, good.substr(0, n)));
      REQUIRE_FALSE(d);
      CHECK(d.error().code == errc::corrupt);
    }
  }
  SECTION("trailing bytes") {
    auto r = from_bytes<item_added_v3>(good + "xx");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::corrupt);
  }
  SECTION("random bytes") {
    std::mt19937 gen{12345};
    std::uniform_int_distribution<int> byte{0, 255};
    std::uniform_int_distribution<int> len{0, 64};
    int refused = 0;
    constexpr int tries = 2000;
    for (int i = 0; i < tries; ++i) {
      std::string junk(static_cast<std::size_t>(len(gen)), '\0');
      for (auto& c : junk)
        c = static_cast<char>(byte(gen));
      // Random bytes may by chance decode; what must never happen is a crash, an
      // exception or an error other than corrupt.
      auto r = reg.decode<item_added_v3>(recorded("ItemAdded", 3, junk));
      if (!r) {
        CHECK(r.error().code == errc::corrupt);
        ++refused;
      }
      auto up = reg.decode<item_added_v3>(recorded("ItemAdded", 1, junk));
      if (!up)
        CHECK(up.error().code == errc::corrupt);
      auto json = reg.to_json("OrderPlaced", 1, junk);
      if (!json)
        CHECK(json.error().code == errc::corrupt);
    }
    // Random bytes almost never form a valid v3 payload (its size tags would have to
    // match the bytes that follow exactly).
    CHECK(refused >= tries * 99 / 100);
  }
  SECTION("anything shorter than the smallest valid payload") {
    // ItemAdded v3 needs at least 8 (sku size) + 4 (qty) + 8 (tags size) bytes.
    for (std::size_t n = 0; n < 20; ++n) {
      std::string junk(n, '\0');
      auto r = reg.decode<item_added_v3>(recorded("ItemAdded", 3, junk));
      INFO("length " << n);
      REQUIRE_FALSE(r);
      CHECK(r.error().code == errc::corrupt);
    }
  }
  SECTION("an upcaster fed damaged bytes") {
    auto r = reg.decode<item_added_v3>(recorded("ItemAdded", 1, "\x05"));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::corrupt);
    CHECK(reg.upcast("ItemAdded", 1, "\xff\xff").code() == errc::corrupt);
  }
  SECTION("a throwing byte-level upcaster") {
    event_registry r2;
    r2.add<item_added_v2>();
    r2.add_upcaster("ItemAdded", 1, [](std::string_view) -> result<std::string> {
      throw std::runtime_error("boom");
    });
    auto r = r2.decode<item_added_v2>(recorded("ItemAdded", 1, "x"));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::corrupt);
  }
}

TEST_CASE("a huge size tag gives corrupt without allocating", "[registry][serialization]") {
  // Positive control: a real string of 100 bytes goes through the counting allocator.
  counted_payload control;
  control.name = counted_string(100, 'n');
  auto control_bytes = bytes_of(control);
  largest_request = 0;
  auto ok = from_bytes<counted_payload>(control_bytes);
  REQUIRE(ok);
  CHECK(ok->name.size() == 100);
  CHECK(largest_request >= 100);

  SECTION("a string length of 2^60") {
    auto bytes = le64(uint64_t{1} << 60) + "abc" + le64(0);
    largest_request = 0;
    auto r = from_bytes<counted_payload>(bytes);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::corrupt);
    CHECK(largest_request < 4096);
  }
  SECTION("a vector length of 2^40") {
    auto bytes = le64(0) + le64(uint64_t{1} << 40) + le64(1);
    largest_request = 0;
    auto r = from_bytes<counted_payload>(bytes);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::corrupt);
    CHECK(largest_request < 4096);
  }
  SECTION("a string length of 2^64 - 1 in a registered event") {
    auto reg = full_registry();
    auto bytes = le64(std::numeric_limits<uint64_t>::max()) + "abc";
    auto r = reg.decode<item_added_v3>(recorded("ItemAdded", 3, bytes));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::corrupt);
    auto up = reg.decode<item_added_v3>(recorded("ItemAdded", 1, bytes));
    REQUIRE_FALSE(up);
    CHECK(up.error().code == errc::corrupt);
  }
}

TEST_CASE("to_json renders a registered event with its field names", "[registry][json]") {
  auto reg = full_registry();
  auto json = reg.to_json("ItemAdded", 3, bytes_of(item_added_v3{"abc", 2, {"red", "big"}}));
  REQUIRE(json);
  CHECK_THAT(*json, Contains("\"sku\": \"abc\""));
  CHECK_THAT(*json, Contains("\"qty\": 2"));
  CHECK_THAT(*json, Contains("\"tags\""));
  CHECK_THAT(*json, Contains("\"red\""));
  CHECK_THAT(*json, !Contains("\"value\""));
  CHECK(json->find('\n') == std::string::npos);
  CHECK(json->front() == '{');
  CHECK(json->back() == '}');
  // Older versions render after upcasting.
  auto old = reg.to_json("ItemAdded", 1, bytes_of(item_added_v1{"abc"}));
  REQUIRE(old);
  CHECK_THAT(*old, Contains("\"sku\": \"abc\""));
  CHECK_THAT(*old, Contains("\"qty\": 1"));
  CHECK_THAT(*old, Contains("\"migrated\""));
  // A newline inside a string stays escaped.
  auto nl = reg.to_json("ItemAdded", 3, bytes_of(item_added_v3{"a\nb", 0, {}}));
  REQUIRE(nl);
  CHECK_THAT(*nl, Contains("\"sku\": \"a\\nb\""));
  // The free function renders any serializable value.
  auto direct = to_json(order_placed{"o-9", 5, {}});
  REQUIRE(direct);
  CHECK_THAT(*direct, Contains("\"order_id\": \"o-9\""));
  CHECK_THAT(*direct, Contains("\"amount_cents\": 5"));
  // An undecodable payload does not render.
  auto bad = reg.to_json("ItemAdded", 3, "\x01");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == errc::corrupt);
}

TEST_CASE("a corrupt recorded event decodes to corrupt", "[registry]") {
  auto reg = full_registry();
  auto e = recorded("ItemAdded", 3, bytes_of(item_added_v3{"abc", 1, {}}));
  REQUIRE(reg.decode<item_added_v3>(e)); // the payload itself is fine
  e.corrupt = true;
  auto r = reg.decode<item_added_v3>(e);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::corrupt);
  // Even when the type does not match, damage is reported first.
  e.type = "Nope";
  CHECK(reg.decode<item_added_v3>(e).code() == errc::corrupt);
}

TEST_CASE("a type registers under an explicit name and version and re-registering replaces it",
          "[registry]") {
  event_registry reg;
  reg.add<item_added_v2>("ItemAdded", 2);
  auto cv = reg.current_version("ItemAdded");
  REQUIRE(cv);
  CHECK(*cv == 2);
  auto json = reg.to_json("ItemAdded", 2, bytes_of(item_added_v2{"k", 4}));
  REQUIRE(json);
  CHECK_THAT(*json, Contains("\"qty\": 4"));
  // Registering again replaces the entry.
  reg.add<item_added_v3>();
  auto cv3 = reg.current_version("ItemAdded");
  REQUIRE(cv3);
  CHECK(*cv3 == 3);
}

namespace {

// A type that names itself nowhere: only the registry knows its name and version.
struct legacy_price_set {
  int64_t cents = 0;
  template <class A>
  void serialize(A& a) {
    a(CEREAL_NVP(cents));
  }
};

} // namespace

TEST_CASE("decode<T> honours the name and version T was registered under", "[registry]") {
  event_registry reg;
  // A type with traits of its own, registered under another name and version.
  reg.add<order_placed>("shop.order_placed", 3);
  auto own = reg.decode<order_placed>(recorded("shop.order_placed", 3, bytes_of(order_placed{"o1", 5, {}})));
  REQUIRE(own);
  CHECK(own->order_id == "o1");
  auto by_traits_name = reg.decode<order_placed>(recorded("OrderPlaced", 1, bytes_of(order_placed{})));
  REQUIRE_FALSE(by_traits_name);
  CHECK(by_traits_name.error().code == errc::unknown_event_type);
  // An older version goes through the upcasters of the registered name.
  reg.add_upcaster("shop.order_placed", 2, [](std::string_view b) -> result<std::string> {
    auto old = from_bytes<order_placed>(b);
    if (!old)
      return std::move(old).error();
    old->order_id += "-upcast";
    return to_bytes(*old);
  });
  auto upcast = reg.decode<order_placed>(recorded("shop.order_placed", 2, bytes_of(order_placed{"o2", 1, {}})));
  REQUIRE(upcast);
  CHECK(upcast->order_id == "o2-upcast");

  // A type without event_traits decodes once registered, from a view too.
  reg.add<legacy_price_set>("legacy.price_set", 1);
  auto rec = recorded("legacy.price_set", 1, bytes_of(legacy_price_set{250}));
  auto legacy = reg.decode<legacy_price_set>(rec.view());
  REQUIRE(legacy);
  CHECK(legacy->cents == 250);
  event_registry empty;
  auto unregistered = empty.decode<legacy_price_set>(rec);
  REQUIRE_FALSE(unregistered);
  CHECK(unregistered.error().code == errc::unknown_event_type);
}
