// The secret handshake's proofs and the owner's epoch fencing, as pure functions.
#include <catch2/catch.hpp>

#include "annal/cluster/fencing.hpp"
#include "annal/cluster/handshake.hpp"

using namespace annal::cluster;

TEST_CASE("HMAC-SHA256 matches the RFC 4231 test vector", "[cluster][handshake]") {
  // RFC 4231, test case 2.
  CHECK(hmac_sha256_hex("Jefe", "what do ya want for nothing?")
        == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("proofs agree only with the same secret, and a proof cannot be reflected",
          "[cluster][handshake]") {
  auto cn = make_nonce();
  auto sn = make_nonce();
  REQUIRE(cn);
  REQUIRE(sn);
  CHECK(cn->size() == 64);
  CHECK(*cn != *sn);
  const std::string secret = "the-shared-secret-of-the-cluster";
  auto s = server_proof(secret, "a", "b", *cn, *sn);
  CHECK(proofs_equal(s, server_proof(secret, "a", "b", *cn, *sn)));
  CHECK_FALSE(proofs_equal(s, server_proof("another-secret-of-32-bytes-long!", "a", "b", *cn, *sn)));
  CHECK_FALSE(proofs_equal(s, client_proof(secret, "a", "b", *cn, *sn)));  // no reflection
  CHECK_FALSE(proofs_equal(s, server_proof(secret, "a", "c", *cn, *sn)));  // bound to the ids
  CHECK_FALSE(proofs_equal(s, server_proof(secret, "a", "b", *sn, *cn)));  // and to the nonces
  CHECK(s.find(secret) == std::string::npos);
  CHECK_FALSE(proofs_equal(s, s.substr(1)));
}

TEST_CASE("an owner refuses a command for a shard it does not own at that epoch", "[cluster][fencing]") {
  auto map = shard_map::assign({"a", "b"}, 8);
  std::string stream;
  for (int i = 0; stream.empty(); ++i)
    if (map.owner(map.shard_of("counter-" + std::to_string(i))).node == "a")
      stream = "counter-" + std::to_string(i);
  auto shard = map.shard_of(stream);
  CHECK(check_ownership(map, "a", stream, shard, 1));
  auto other = check_ownership(map, "b", stream, shard, 1);
  REQUIRE_FALSE(other);
  CHECK(other.error().code == annal::errc::unavailable);
  map.set_owner(shard, {"a", 2});
  auto stale = check_ownership(map, "a", stream, shard, 1);
  REQUIRE_FALSE(stale);
  CHECK(stale.error().code == annal::errc::unavailable);
  CHECK(stale.error().message.find("epoch 2") != std::string::npos);
  CHECK(check_ownership(map, "a", stream, shard, 2));
  auto wrong_shard = check_ownership(map, "a", stream, static_cast<uint16_t>((shard + 1) % 8), 2);
  REQUIRE_FALSE(wrong_shard);
  CHECK(wrong_shard.error().code == annal::errc::bad_request);
  CHECK_FALSE(check_ownership(map, "a", stream, 8, 2));
}
