// TLS between nodes (issue 12, libcaf_openssl): a throwaway CA and node certificates made
// with the `openssl` command in a temp folder; two shop nodes with TLS forward a command;
// a node without TLS, or with a certificate of another CA, cannot join (its links never
// come up and the commands of its shards fail with 503 unavailable).
#include <catch2/catch.hpp>

#include "child_run.hpp"
#include "shop_cluster_fixture.hpp"

using namespace shop::test;
using annal::test::cluster_fixture;
using nlohmann::json;

namespace {

const std::vector<std::string> pair_ids = {"a", "b"};

// Runs the openssl command in `dir`; true when it succeeded.
bool run_openssl(const std::filesystem::path& dir, std::vector<std::string> args) {
  std::vector<std::string> full = std::move(args);
  for (auto& a : full)
    if (a.rfind("@", 0) == 0)
      a = (dir / a.substr(1)).string(); // @name: a file in dir
  auto r = annal::test::run_child(OPENSSL_PROGRAM, full, std::chrono::seconds(30));
  if (r.exit_code != 0)
    UNSCOPED_INFO("openssl " << full.front() << " failed: " << r.output);
  return r.exit_code == 0;
}

// A self-signed CA `<ca>.pem`/`<ca>.key` in dir (P-256 keys: quick to make).
bool make_ca(const std::filesystem::path& dir, const std::string& ca) {
  return run_openssl(dir, {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                       "-nodes", "-keyout", "@" + ca + ".key", "-out", "@" + ca + ".pem", "-days", "2",
                       "-subj", "/CN=" + ca});
}

// `<node>.pem`/`<node>.key` in dir, signed by CA `<ca>`.
bool make_node_cert(const std::filesystem::path& dir, const std::string& node, const std::string& ca) {
  return run_openssl(dir, {"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                       "-keyout", "@" + node + ".key", "-out", "@" + node + ".csr", "-subj", "/CN=" + node})
         && run_openssl(dir, {"x509", "-req", "-in", "@" + node + ".csr", "-CA", "@" + ca + ".pem", "-CAkey",
                          "@" + ca + ".key", "-CAcreateserial", "-out", "@" + node + ".pem", "-days", "2"});
}

json tls_keys(const std::filesystem::path& dir, const std::string& cert_prefix, const std::string& ca) {
  return {{"tls", {{"certificate", (dir / (cert_prefix + "{node}.pem")).string()},
                   {"key", (dir / (cert_prefix + "{node}.key")).string()},
                   {"ca_file", (dir / (ca + ".pem")).string()}}}};
}

// True when node `id` answers and sees `peer` in a state other than up for a while
// (the handshake is retried with backoff: sample it several times over ~1.5 s).
bool stays_apart(const cluster_fixture& f, const std::string& id, const std::string& peer) {
  for (int i = 0; i < 15; ++i) {
    if (f.health(id, peer) == "up")
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

} // namespace

TEST_CASE("two shop nodes with TLS forward a command, and a node without TLS or with another CA's "
          "certificate cannot join",
          "[cluster][shop][tls]") {
  cluster_fixture f{pair_ids};
  auto certs = f.dir / "certs";
  std::filesystem::create_directories(certs);
  REQUIRE(make_ca(certs, "ca"));
  REQUIRE(make_ca(certs, "other-ca"));
  for (const auto& id : pair_ids) {
    REQUIRE(make_node_cert(certs, id, "ca"));
    REQUIRE(make_node_cert(certs, "rogue-" + id, "other-ca"));
  }
  annal::test::write_config(f.dir / "tls.json", f.ports, f.dir / "secret", tls_keys(certs, "", "ca"));
  // b's certificate is of another CA (b trusts that CA too, so only a's check can refuse).
  annal::test::write_config(f.dir / "rogue.json", f.ports, f.dir / "secret",
                            tls_keys(certs, "rogue-", "other-ca"));

  f.start("a", "tls.json");
  f.start("b", "tls.json");
  REQUIRE(eventually([&] { return f.all_up(); }, std::chrono::seconds(15)));
  auto status = f.client("a").get("/cluster/status");
  CHECK(status.json.value("tls", false));
  auto sku = f.id_owned_by("b", "product", "tls-");
  auto r = f.client("a").create_product(sku, "Item", 100);
  INFO(r.text);
  REQUIRE(r.status == 201);
  auto on_b = f.client("b").get("/streams/product-" + sku + "/events?from=1&limit=1");
  CHECK(on_b.status == 200);
  CHECK(f.log_of("a").find("-----BEGIN") == std::string::npos);

  // b without TLS (same secret): a's TLS port does not talk to it, nor b's plain one to a.
  REQUIRE(f.stop("b"));
  f.start("b", "cluster.json");
  CHECK(stays_apart(f, "a", "b"));
  CHECK(stays_apart(f, "b", "a"));
  auto down = f.client("a").create_product(f.id_owned_by("b", "product", "plain-"), "Item", 100);
  CHECK(down.status == 503);
  CHECK(down.error() == "unavailable");

  // b with a certificate of another CA: refused by a's certificate check.
  REQUIRE(f.stop("b"));
  f.start("b", "rogue.json");
  CHECK(stays_apart(f, "a", "b"));
  CHECK(stays_apart(f, "b", "a"));
  auto rogue = f.client("a").create_product(f.id_owned_by("b", "product", "rogue-"), "Item", 100);
  CHECK(rogue.status == 503);

  // The real b returns with its certificate: the cluster works again.
  REQUIRE(f.stop("b"));
  f.start("b", "tls.json");
  REQUIRE(eventually([&] { return f.all_up(); }, std::chrono::seconds(15)));
  CHECK(f.client("a").create_product(f.id_owned_by("b", "product", "back-"), "Item", 100).status == 201);
  for (const auto& id : pair_ids)
    CHECK(f.stop(id));
}
