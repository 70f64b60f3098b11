// Every runtime error kind at its HTTP answer (status and stable code), and a version
// conflict answered from the versions it carries (no second look at the store).
#include <catch2/catch.hpp>

#include <utility>
#include <vector>

#include "shop/node/shop_service.hpp"

// A namespace of its own: unity builds put several test files in one translation unit.
namespace error_mapping_cases {

using annal::errc;
using annal::expected_version;
using shop::node::to_api_error;
using shop::node::to_command_error;

TEST_CASE("each runtime error kind has its HTTP status and code", "[shop][errors]") {
  struct mapping {
    errc code;
    int status;
    const char* api_code;
  };
  const std::vector<mapping> table = {
    {errc::conflict, 409, "version_conflict"},
    {errc::rejected, 409, "rejected"},
    {errc::not_found, 404, "not_found"},
    {errc::already_exists, 409, "already_exists"},
    {errc::stream_deleted, 404, "not_found"},
    {errc::storage_full, 507, "storage_full"},
    {errc::io_error, 500, "internal"},
    {errc::corrupt, 500, "internal"},
    {errc::unknown_event_type, 500, "internal"},
    {errc::bad_request, 400, "bad_request"},
    {errc::timeout, 504, "timeout"},
    {errc::unavailable, 503, "unavailable"},
    {errc::overloaded, 503, "unavailable"},
    {errc::handler_fault, 500, "handler_fault"},
  };
  // Every errc is in the table (they are numbered from 1 without a gap).
  REQUIRE(table.size() == static_cast<std::size_t>(errc::handler_fault));
  for (const auto& m : table) {
    INFO(annal::to_string(m.code));
    auto e = to_api_error(annal::make_error(m.code, "what happened"));
    CHECK(e.status == m.status);
    CHECK(e.code == m.api_code);
    CHECK_THAT(e.message, Catch::Contains("what happened"));
  }
}

TEST_CASE("a throwing handler is a 500 that says it is a bug, never a 409 refusal", "[shop][errors]") {
  auto e = to_api_error(annal::make_error(errc::handler_fault, "evolve threw: boom"));
  CHECK(e.status == 500);
  CHECK(e.code == "handler_fault");
  CHECK_THAT(e.message, Catch::Contains("bug") && Catch::Contains("evolve threw: boom"));
}

TEST_CASE("a command's version conflict is answered from the versions it carries", "[shop][errors]") {
  auto conflict_at = [](expected_version expected, annal::stream_version actual) {
    return annal::make_conflict("order-o1", expected, actual);
  };
  // A create that finds events: the entity exists already.
  auto exists = to_command_error(conflict_at(expected_version::no_stream(), 3), "order 'o1'", true, false);
  CHECK(exists.status == 409);
  CHECK(exists.code == "already_exists");
  CHECK(exists.message == "order 'o1' exists already");
  // A command on an existing entity that finds none: 404.
  auto missing =
    to_command_error(conflict_at(expected_version::stream_exists(), 0), "order 'o1'", false, true);
  CHECK(missing.status == 404);
  CHECK(missing.code == "not_found");
  // If-Match on a stream that moved on: a version conflict naming both versions.
  auto stale = to_command_error(conflict_at(expected_version::exact(2), 5), "order 'o1'", false, true);
  CHECK(stale.status == 409);
  CHECK(stale.code == "version_conflict");
  CHECK_THAT(stale.message, Catch::Contains("expected version 2") && Catch::Contains("actual version 5"));
  // Other errors of a command map as always.
  auto refused = to_command_error(annal::make_error(errc::rejected, "paid already"), "order 'o1'", false, true);
  CHECK(refused.code == "rejected");
}

} // namespace error_mapping_cases
