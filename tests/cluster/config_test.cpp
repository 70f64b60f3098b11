// The cluster file: members, the deterministic initial shard map, overrides, the secret's
// sources, and that the shard map's function is the journal's.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

#include "annal/cluster/cluster_config.hpp"
#include "annal/event_store.hpp"
#include "temp_dir.hpp"

using namespace annal::cluster;

namespace {

const std::string config_secret = "0123456789abcdef-cluster-secret";

std::string three_members(const std::string& secret_line) {
  return R"({"members": [{"id": "c", "host": "127.0.0.1", "port": 7003},
                          {"id": "a", "host": "127.0.0.1", "port": 7001},
                          {"id": "b", "host": "127.0.0.1", "port": 7002}], )"
         + secret_line + "}";
}

} // namespace

TEST_CASE("the initial shard map is the same on every node and spreads shards round robin by sorted id",
          "[cluster][config]") {
  ::setenv("ANNAL_TEST_CLUSTER_SECRET", config_secret.c_str(), 1);
  auto text = three_members(R"("secret_env": "ANNAL_TEST_CLUSTER_SECRET")");
  auto a = parse_cluster_config(text, "a");
  auto c = parse_cluster_config(text, "c");
  REQUIRE(a);
  REQUIRE(c);
  REQUIRE(a->shards.shard_count() == 64);
  CHECK(a->forward_timeout == std::chrono::milliseconds{1000});
  CHECK(a->secret == config_secret);
  for (uint16_t s = 0; s < 64; ++s) {
    CHECK(a->shards.owner(s) == c->shards.owner(s));
    CHECK(a->shards.owner(s).node == std::string(1, static_cast<char>('a' + s % 3)));
    CHECK(a->shards.owner(s).epoch == 1);
  }
  CHECK(a->shards.shards_of("a").size() == 22);
  CHECK(a->self().port == 7001);
  CHECK(c->self().port == 7003);
}

TEST_CASE("shard overrides set an owner and an epoch, and bad ones are refused", "[cluster][config]") {
  ::setenv("ANNAL_TEST_CLUSTER_SECRET", config_secret.c_str(), 1);
  auto env = std::string{R"("secret_env": "ANNAL_TEST_CLUSTER_SECRET")"};
  auto ok = parse_cluster_config(
    three_members(env + R"(, "shard_count": 8, "shards": {"3": {"owner": "a", "epoch": 7}})"), "b");
  REQUIRE(ok);
  CHECK(ok->shards.shard_count() == 8);
  CHECK(ok->shards.owner(3) == shard_owner{"a", 7});
  for (const auto* bad : {R"(, "shards": {"64": {"owner": "a"}})", R"(, "shards": {"1": {"owner": "z"}})",
                          R"(, "shards": {"1": {"owner": "a", "epoch": 0}})", R"(, "shard_count": 0)"}) {
    auto r = parse_cluster_config(three_members(env + bad), "a");
    INFO(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == annal::errc::bad_request);
  }
}

TEST_CASE("the secret comes from a file or an environment variable and is never in an error",
          "[cluster][config]") {
  annal::test::temp_dir dir;
  auto file = dir / "secret";
  std::ofstream{file} << config_secret << "\n";
  auto from_file = parse_cluster_config(three_members(R"("secret_file": ")" + file.string() + "\""), "a");
  REQUIRE(from_file);
  CHECK(from_file->secret == config_secret); // the newline of `echo secret > file` is not part of it

  std::ofstream{dir / "short"} << "tooshort";
  auto too_short = parse_cluster_config(three_members(R"("secret_file": ")" + (dir / "short").string() + "\""), "a");
  REQUIRE_FALSE(too_short);
  CHECK(too_short.error().message.find("tooshort") == std::string::npos);

  ::unsetenv("ANNAL_TEST_CLUSTER_UNSET");
  CHECK_FALSE(parse_cluster_config(three_members(R"("secret_env": "ANNAL_TEST_CLUSTER_UNSET")"), "a"));
  CHECK_FALSE(parse_cluster_config(three_members(R"("members2": 1)"), "a"));
  auto missing = load_cluster_config(dir / "missing.json", "a");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == annal::errc::io_error);
}

TEST_CASE("heartbeat and connection timeout have defaults, can be set, and a timeout below two heartbeats "
          "is refused",
          "[cluster][config]") {
  ::setenv("ANNAL_TEST_CLUSTER_SECRET", config_secret.c_str(), 1);
  auto env = std::string{R"("secret_env": "ANNAL_TEST_CLUSTER_SECRET")"};
  auto plain = parse_cluster_config(three_members(env), "a");
  REQUIRE(plain);
  CHECK(plain->heartbeat == std::chrono::milliseconds{250});
  CHECK(plain->connection_timeout == std::chrono::milliseconds{2000});
  auto set = parse_cluster_config(three_members(env + R"(, "heartbeat_ms": 100, "connection_timeout_ms": 500)"),
                                  "a");
  REQUIRE(set);
  CHECK(set->heartbeat == std::chrono::milliseconds{100});
  CHECK(set->connection_timeout == std::chrono::milliseconds{500});
  for (const auto* bad : {R"(, "heartbeat_ms": 0)", R"(, "connection_timeout_ms": "1s")",
                          R"(, "heartbeat_ms": 400, "connection_timeout_ms": 700)"}) {
    auto r = parse_cluster_config(three_members(env + bad), "a");
    INFO(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == annal::errc::bad_request);
  }
}

TEST_CASE("members must be unique and the node must be one of them", "[cluster][config]") {
  ::setenv("ANNAL_TEST_CLUSTER_SECRET", config_secret.c_str(), 1);
  auto env = std::string{R"("secret_env": "ANNAL_TEST_CLUSTER_SECRET")"};
  CHECK_FALSE(parse_cluster_config(three_members(env), "d"));
  CHECK_FALSE(parse_cluster_config(R"({"members": [{"id": "a", "host": "127.0.0.1", "port": 1},
                                                   {"id": "a", "host": "127.0.0.1", "port": 2}], )"
                                     + env + "}", "a"));
  CHECK_FALSE(parse_cluster_config("not json", "a"));
}

TEST_CASE("an aggregate's shard in the map is the shard the journal stores with its events",
          "[cluster][config]") {
  annal::test::temp_dir dir;
  annal::store_options o;
  o.dir = dir / "journal";
  o.mode = annal::durability::no_sync;
  auto store = annal::event_store::open(o);
  REQUIRE(store);
  auto map = shard_map::assign({"a", "b"}, o.shard_count);
  for (int i = 0; i < 50; ++i) {
    auto stream = "counter-" + std::to_string(i);
    annal::new_event e;
    e.type = "t";
    e.payload = "x";
    REQUIRE((*store)->append(stream, annal::expected_version::any(), {e}));
    auto evs = (*store)->read_stream(stream);
    REQUIRE(evs);
    REQUIRE(evs->size() == 1);
    CHECK(evs->front().shard == map.shard_of(stream));
  }
}

TEST_CASE("tls names each node's certificate and key through {node} and a shared CA, and all three "
          "files must be given and readable",
          "[cluster][config][tls]") {
  ::setenv("ANNAL_TEST_CLUSTER_SECRET", config_secret.c_str(), 1);
  annal::test::temp_dir dir;
  for (const auto* f : {"a.pem", "a.key", "b.pem", "b.key", "ca.pem"})
    std::ofstream{dir / f} << "x";
  auto env = std::string{R"("secret_env": "ANNAL_TEST_CLUSTER_SECRET")"};
  auto tls = [&](const std::string& cert, const std::string& key, const std::string& ca) {
    return env + R"(, "tls": {"certificate": ")" + (dir / cert).string() + R"(", "key": ")"
           + (dir / key).string() + R"(", "ca_file": ")" + (dir / ca).string() + R"("})";
  };
  auto plain = parse_cluster_config(three_members(env), "a");
  REQUIRE(plain);
  CHECK_FALSE(plain->tls);
  auto b = parse_cluster_config(three_members(tls("{node}.pem", "{node}.key", "ca.pem")), "b");
  REQUIRE(b);
  REQUIRE(b->tls);
  CHECK(b->tls->certificate == dir / "b.pem");
  CHECK(b->tls->key == dir / "b.key");
  CHECK(b->tls->ca_file == dir / "ca.pem");
  // c has no files: it cannot start with TLS.
  auto c = parse_cluster_config(three_members(tls("{node}.pem", "{node}.key", "ca.pem")), "c");
  REQUIRE_FALSE(c);
  CHECK(c.error().code == annal::errc::io_error);
  auto missing = parse_cluster_config(three_members(env + R"(, "tls": {"certificate": "x.pem"})"), "a");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == annal::errc::bad_request);
}

TEST_CASE("a member that joins a running cluster gets no shard in the initial map, which stays the "
          "founders' on every node", "[cluster][config][join]") {
  ::setenv("ANNAL_TEST_CLUSTER_SECRET", config_secret.c_str(), 1);
  auto env = std::string{R"("secret_env": "ANNAL_TEST_CLUSTER_SECRET")"};
  auto founders = parse_cluster_config(three_members(env), "a");
  auto text = R"({"members": [{"id": "c", "host": "127.0.0.1", "port": 7003},
                              {"id": "a", "host": "127.0.0.1", "port": 7001},
                              {"id": "0", "host": "127.0.0.1", "port": 7000, "joins": true},
                              {"id": "b", "host": "127.0.0.1", "port": 7002}], )"
              + env + "}";
  auto joiner = parse_cluster_config(text, "0");
  REQUIRE(founders);
  REQUIRE(joiner);
  CHECK(joiner->self().joins);
  CHECK(joiner->shards.shards_of("0").empty());
  for (uint16_t s = 0; s < 64; ++s)
    CHECK(joiner->shards.owner(s) == founders->shards.owner(s));
  for (const auto* bad : {R"({"members": [{"id": "a", "host": "h", "port": 1, "joins": true}], )",
                          R"({"members": [{"id": "a", "host": "h", "port": 1, "joins": "yes"}], )"}) {
    auto r = parse_cluster_config(bad + env + "}", "a");
    INFO(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == annal::errc::bad_request);
  }
}
