// The live feed behind GET /events/live: a client resuming after any position gets every
// later event exactly once, from the ring or from the journal; a client too far behind
// skips ahead with a marker; a position the journal never had resets the client.
#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>

#include <regex>
#include <vector>

#include "shop/node/live_stream.hpp"
#include "web_fixture.hpp"

namespace {

using position = annal::global_position;

std::vector<position> ids_in(const std::string& text) {
  std::vector<position> out;
  static const std::regex id{"(^|\n)id: ([0-9]+)\n(?!event:)"};
  for (auto it = std::sregex_iterator(text.begin(), text.end(), id); it != std::sregex_iterator(); ++it)
    out.push_back(std::stoull((*it)[2]));
  return out;
}

// Reads everything after `after` in pieces of `piece` events, as a client would.
std::vector<position> read_all_after(shop::node::live_feed& feed, position after, std::size_t piece) {
  std::vector<position> out;
  for (int round = 0; round < 1000; ++round) {
    auto p = feed.read_after(after, piece);
    REQUIRE(p);
    if (p->text.empty())
      break;
    auto ids = ids_in(p->text);
    CHECK(ids.size() == p->events);
    CHECK(ids.size() <= piece);
    out.insert(out.end(), ids.begin(), ids.end());
    after = p->through;
  }
  return out;
}

std::vector<position> journal_after(annal::runtime& rt, position after) {
  std::vector<position> out;
  auto events = rt.store().read_all(after, 100000);
  REQUIRE(events);
  for (const auto& e : *events)
    out.push_back(e.position);
  return out;
}

// Waits (bounded) until the feed has published everything the journal holds.
void await_feed(shop::test::web_fixture& f) {
  auto head = f.rt->store().last_position();
  REQUIRE(head);
  REQUIRE(f.rt->await_projection(shop::node::live_feed::projection_name, *head, std::chrono::seconds(10)));
}

} // namespace

TEST_CASE("a client resuming after any position gets every later event once, from the ring or the journal",
          "[web][live]") {
  shop::node::live_feed::options o;
  o.ring_events = 8; // most of the history is older than the ring
  shop::test::web_fixture f{o};
  for (int i = 0; i < 10; ++i) // while nobody listens: journal only
    f.create_product("a" + std::to_string(i));
  f.feed->client_opened();
  for (int i = 0; i < 20; ++i) // while a client listens: the newest 8 are in the ring
    f.create_product("b" + std::to_string(i));
  await_feed(f);
  auto head = *f.rt->store().last_position();
  for (position from : {position{0}, position{1}, position{9}, position{10}, position{15},
                        head - 8, head - 7, head - 1, head}) {
    CAPTURE(from);
    for (std::size_t piece : {std::size_t{1}, std::size_t{3}, std::size_t{512}}) {
      CAPTURE(piece);
      CHECK(read_all_after(*f.feed, from, piece) == journal_after(*f.rt, from));
    }
  }
  f.feed->client_closed();
}

TEST_CASE("a client too far behind skips ahead to the ring with a marker", "[web][live]") {
  shop::node::live_feed::options o;
  o.ring_events = 4;
  o.max_backlog = 6;
  shop::test::web_fixture f{o};
  f.feed->client_opened();
  for (int i = 0; i < 12; ++i)
    f.create_product("p" + std::to_string(i));
  await_feed(f);
  auto p = f.feed->read_after(0, 100);
  REQUIRE(p);
  CHECK(p->text.find("event: skipped") != std::string::npos);
  CHECK(p->events == 0);
  CHECK(p->through > 0);
  CHECK(f.feed->skips() == 1);
  // After the marker: the ring, without a gap up to the journal's end.
  CHECK(read_all_after(*f.feed, p->through, 100) == journal_after(*f.rt, p->through));
  f.feed->client_closed();
}

TEST_CASE("a position beyond the journal's end resets the client to the end", "[web][live]") {
  shop::test::web_fixture f;
  f.create_product("x");
  await_feed(f);
  auto p = f.feed->read_after(1000, 10);
  REQUIRE(p);
  CHECK(p->text.find("event: reset") != std::string::npos);
  CHECK(p->through == *f.rt->store().last_position());
}

TEST_CASE("a waiting client is woken by the next event", "[web][live]") {
  shop::test::web_fixture f;
  f.feed->client_opened();
  auto head = *f.rt->store().last_position();
  std::promise<void> woken;
  auto fired = woken.get_future();
  f.feed->notify_after(head, [&] { woken.set_value(); });
  f.create_product("y");
  REQUIRE(fired.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  f.feed->client_closed();
}

TEST_CASE("frames carry the envelope, or with full detail the event as the audit trail shows it",
          "[web][live]") {
  shop::test::web_fixture f;
  f.feed->client_opened();
  auto at = f.create_product("tea");
  await_feed(f);
  auto summary = f.feed->read_after(at - 1, 10);
  auto full = f.feed->read_after(at - 1, 10, shop::node::live_feed::detail::full);
  REQUIRE(summary);
  REQUIRE(full);
  auto data_of = [](const std::string& text) {
    auto start = text.find("data: ");
    REQUIRE(start != std::string::npos);
    return nlohmann::json::parse(text.substr(start + 6, text.find('\n', start) - start - 6));
  };
  auto s = data_of(summary->text);
  CHECK(s["position"] == at);
  CHECK(s["stream"] == "product-tea");
  CHECK(s["type"] == "ProductCreated");
  CHECK(s["version"] == 1);
  CHECK(s.contains("timestamp"));
  CHECK_FALSE(s.contains("data"));
  auto x = data_of(full->text);
  CHECK(x["data"]["sku"] == "tea");
  CHECK(x.contains("metadata"));
  f.feed->client_closed();
}
