// The endpoint admits nothing before the secret is proved: a raw CAF client that reaches
// the published endpoint gets every command refused, and a wrong proof is refused and
// logged without the secret.
#include <catch2/catch.hpp>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <mutex>
#include <optional>

#include "annal/caf_error.hpp"
#include "annal/cluster/cluster_config.hpp"
#include "annal/cluster/handshake.hpp"
#include "annal/log.hpp"
#include "cluster_harness.hpp"
#include "wire.hpp"

using namespace annal;
using namespace annal::cluster;

namespace {

const std::string admission_secret = "admission-test-secret-0123456789";

struct captured_log {
  std::mutex mx;
  std::string text;
  captured_log() {
    set_log_sink([this](log_level, std::string_view m) {
      std::lock_guard<std::mutex> guard{mx};
      text.append(m).push_back('\n');
    });
  }
  ~captured_log() { set_log_sink(nullptr); }
  std::string get() {
    std::lock_guard<std::mutex> guard{mx};
    return text;
  }
};

} // namespace

TEST_CASE("the endpoint refuses commands and wrong proofs from a peer that has not proved the secret",
          "[cluster][secret]") {
  captured_log logs;
  annal::test::temp_dir dir;
  auto pa = annal::test::free_port();
  auto pb = annal::test::free_port();
  ::setenv("ANNAL_TEST_ADMISSION_SECRET", admission_secret.c_str(), 1);
  auto cfg = parse_cluster_config(R"({"secret_env": "ANNAL_TEST_ADMISSION_SECRET", "members": [
      {"id": "a", "host": "127.0.0.1", "port": )" + std::to_string(pa) + R"(},
      {"id": "b", "host": "127.0.0.1", "port": )" + std::to_string(pb) + "}]}", "a");
  REQUIRE(cfg);
  auto map = cfg->shards;
  annal::test::test_node a{dir / "a", std::move(*cfg)}; // b never runs: the raw client poses as b

  caf::actor_system_config client_cfg;
  client_cfg.load<caf::io::middleman>();
  client_cfg.set("scheduler.max-threads", 1);
  register_error_category(client_cfg);
  caf::actor_system client{client_cfg};
  {
    auto ep = caf::io::remote_actor(client, "127.0.0.1", pa);
    REQUIRE(ep);
    caf::scoped_actor self{client};
    std::string stream;
    for (int i = 0; stream.empty(); ++i)
      if (map.owner(map.shard_of("counter-" + std::to_string(i))).node == "a")
        stream = "counter-" + std::to_string(i);
    auto shard = map.shard_of(stream);
    auto forward = [&] {
      std::optional<errc> refused;
      self->request(*ep, std::chrono::seconds(5), cluster::detail::forward_atom::value, std::string{"counter"},
                    stream.substr(8), stream, shard, uint64_t{1}, std::string{}, std::vector<std::string>{"", "", ""},
                    uint8_t{0}, uint64_t{0}, int64_t{1000})
        .receive([&](uint8_t, std::string&, uint64_t, uint64_t, bool) {},
                 [&](caf::error& e) { refused = from_caf_error(e).code; });
      return refused;
    };
    // No handshake at all.
    CHECK(forward() == errc::unavailable);
    // A hello, then a proof made with the wrong secret.
    auto nonce = make_nonce();
    REQUIRE(nonce);
    std::string server_nonce;
    self->request(*ep, std::chrono::seconds(5), cluster::detail::hello_atom::value, std::string{"b"}, *nonce)
      .receive([&](std::string& sn, std::string&) { server_nonce = sn; }, [&](caf::error&) {});
    REQUIRE(server_nonce.size() == 64);
    bool proof_refused = false;
    self->request(*ep, std::chrono::seconds(5), cluster::detail::prove_atom::value,
                  client_proof("not-the-secret-of-this-cluster!!", "a", "b", *nonce, server_nonce))
      .receive([&](caf::atom_value) {}, [&](caf::error&) { proof_refused = true; });
    CHECK(proof_refused);
    CHECK(forward() == errc::unavailable);
    // A stranger may be a node joining: it gets a hello's answer, but a wrong proof, and
    // then its word of where it listens, make it no member.
    server_nonce.clear();
    self->request(*ep, std::chrono::seconds(5), cluster::detail::hello_atom::value, std::string{"z"}, *nonce)
      .receive([&](std::string& sn, std::string&) { server_nonce = sn; }, [&](caf::error&) {});
    REQUIRE(server_nonce.size() == 64);
    self->request(*ep, std::chrono::seconds(5), cluster::detail::prove_atom::value,
                  client_proof("not-the-secret-of-this-cluster!!", "a", "z", *nonce, server_nonce))
      .receive([&](caf::atom_value) {}, [&](caf::error&) {});
    self->send(*ep, cluster::detail::member_atom::value, std::string{"127.0.0.1"}, uint16_t{9}, true);
    CHECK(forward() == errc::unavailable); // answered after the member message: it was handled
    // A hello claiming to be the node itself is refused outright.
    bool own_id_refused = false;
    self->request(*ep, std::chrono::seconds(5), cluster::detail::hello_atom::value, std::string{"a"}, *nonce)
      .receive([&](std::string&, std::string&) {}, [&](caf::error&) { own_id_refused = true; });
    CHECK(own_id_refused);
  }
  CHECK(a.node->peers() == std::vector<std::string>{"b"});
  CHECK(a.rt->store().last_position().value_or(0) == 0);
  auto text = logs.get();
  CHECK(text.find("refused peer 'b'") != std::string::npos);
  CHECK(text.find("refused a command") != std::string::npos);
  CHECK(text.find(admission_secret) == std::string::npos);
}

TEST_CASE("the endpoint refuses a proven peer's command sent for another epoch of the shard",
          "[cluster][fencing]") {
  annal::test::temp_dir dir;
  auto pa = annal::test::free_port();
  auto pb = annal::test::free_port();
  ::setenv("ANNAL_TEST_ADMISSION_SECRET", admission_secret.c_str(), 1);
  auto cfg = parse_cluster_config(R"({"secret_env": "ANNAL_TEST_ADMISSION_SECRET", "members": [
      {"id": "a", "host": "127.0.0.1", "port": )" + std::to_string(pa) + R"(},
      {"id": "b", "host": "127.0.0.1", "port": )" + std::to_string(pb) + "}]}", "a");
  REQUIRE(cfg);
  auto map = cfg->shards;
  annal::test::test_node a{dir / "a", std::move(*cfg)}; // the raw client below is b

  caf::actor_system_config client_cfg;
  client_cfg.load<caf::io::middleman>();
  client_cfg.set("scheduler.max-threads", 1);
  register_error_category(client_cfg);
  caf::actor_system client{client_cfg};
  auto ep = caf::io::remote_actor(client, "127.0.0.1", pa);
  REQUIRE(ep);
  caf::scoped_actor self{client};
  auto nonce = make_nonce();
  REQUIRE(nonce);
  std::string server_nonce;
  self->request(*ep, std::chrono::seconds(5), cluster::detail::hello_atom::value, std::string{"b"}, *nonce)
    .receive([&](std::string& sn, std::string&) { server_nonce = sn; }, [&](caf::error&) {});
  REQUIRE(server_nonce.size() == 64);
  bool admitted = false;
  self->request(*ep, std::chrono::seconds(5), cluster::detail::prove_atom::value,
                client_proof(admission_secret, "a", "b", *nonce, server_nonce))
    .receive([&](caf::atom_value) { admitted = true; }, [&](caf::error&) {});
  REQUIRE(admitted);
  std::string stream;
  for (int i = 0; stream.empty(); ++i)
    if (map.owner(map.shard_of("counter-" + std::to_string(i))).node == "a")
      stream = "counter-" + std::to_string(i);
  auto shard = map.shard_of(stream);
  auto forward = [&](uint64_t epoch) {
    std::optional<error> refused;
    self->request(*ep, std::chrono::seconds(5), cluster::detail::forward_atom::value, std::string{"counter"},
                  stream.substr(8), stream, shard, epoch, std::string{}, std::vector<std::string>{"", "", ""},
                  uint8_t{0}, uint64_t{0}, int64_t{1000})
      .receive(
        [&](uint8_t code, std::string& msg, uint64_t, uint64_t, bool, uint16_t, uint64_t) {
          if (code != 0)
            refused = make_error(static_cast<errc>(code), msg);
        },
        [&](caf::error& e) { refused = from_caf_error(e); });
    return refused;
  };
  // a owns the shard at epoch 1: a command sent for epoch 2 (a map a has not seen) or 0
  // is refused before anything runs.
  for (uint64_t epoch : {uint64_t{2}, uint64_t{0}}) {
    auto refused = forward(epoch);
    REQUIRE(refused);
    CHECK(refused->code == errc::unavailable);
    CHECK(refused->message.find("epoch") != std::string::npos);
  }
  CHECK(a.rt->store().last_position().value_or(0) == 0);
}
