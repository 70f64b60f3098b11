// annal upgrade: the format-2 journal checked into tests/data (written by the code before
// format 3) is upgraded in place, and verify passes before and after; verify's shard check.
#include <catch2/catch.hpp>

#include <lmdb.h>

#include <filesystem>

#include "byte_order.hpp"
#include "cli_json.hpp"
#include "envelope_codec.hpp"
#include "shop_store.hpp"
#include "temp_dir.hpp"

using namespace annal;
using namespace annal::test;

namespace {

void copy_fixture(const temp_dir& data) {
  auto journal = data.path() / "journal";
  std::filesystem::create_directories(journal);
  std::filesystem::copy_file(std::filesystem::path{ANNAL_TEST_DATA} / "format2_store" / "data.mdb",
                             journal / "data.mdb");
}

nlohmann::json verify_summary(const temp_dir& data) {
  auto v = run_annal({"--data", data.path().string(), "--json", "verify"});
  INFO("verify: " << v.out << v.err);
  CHECK(v.exit_code == 0);
  auto summary = of_kind(json_lines(v), "summary");
  REQUIRE(summary.size() == 1);
  return summary[0];
}

} // namespace

TEST_CASE("annal upgrade brings the format-2 journal of tests/data to format 3 and verify "
          "passes before and after",
          "[cli][upgrade]") {
  temp_dir data;
  copy_fixture(data);
  auto before = verify_summary(data);
  CHECK(before["problems"] == 0);
  CHECK(before["tail_events"] == 0);

  auto r = run_annal({"--json", "upgrade", data.path().string()});
  INFO("upgrade: " << r.out << r.err);
  REQUIRE(r.exit_code == 0);
  auto lines = json_lines(r);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0]["format_before"] == 2);
  CHECK(lines[0]["format"] == 3);
  CHECK(lines[0]["events"] == before["events"]);
  CHECK(r.err.find("upgrade the journal") != std::string::npos); // the progress line

  auto after = verify_summary(data);
  CHECK(after["problems"] == 0);
  CHECK(after["events"] == before["events"]);
  CHECK(after["indexed_events"] == before["indexed_events"]);
  CHECK(after["shard_gaps"] == 0);

  auto again = run_annal({"--data", data.path().string(), "--json", "upgrade"});
  REQUIRE(again.exit_code == 0);
  CHECK(json_lines(again)[0]["format_before"] == 3);
}

TEST_CASE("verify reports an event whose shard position does not rise in its shard",
          "[cli][upgrade]") {
  temp_dir data;
  write_shop_journal(data.path());
  global_position target = 0;
  {
    auto store = open_test_journal(data.path());
    auto all = store->read_all(0, 100000);
    REQUIRE(all);
    for (const auto& e : *all)
      if (e.shard_position >= 2 && target == 0)
        target = e.position;
  }
  REQUIRE(target > 0);
  REQUIRE(verify_summary(data)["problems"] == 0);
  // Re-encode that event (valid checksum) with shard position 1, which its shard used.
  MDB_env* env = nullptr;
  REQUIRE(mdb_env_create(&env) == 0);
  mdb_env_set_maxdbs(env, 16);
  REQUIRE(mdb_env_open(env, (data.path() / "journal").c_str(), 0, 0644) == 0);
  MDB_txn* txn = nullptr;
  REQUIRE(mdb_txn_begin(env, nullptr, 0, &txn) == 0);
  MDB_dbi events = 0;
  REQUIRE(mdb_dbi_open(txn, "events", 0, &events) == 0);
  char key[8];
  detail::store_be64(key, target);
  MDB_val k{8, key}, v;
  REQUIRE(mdb_get(txn, events, &k, &v) == 0);
  event_view e;
  REQUIRE(detail::decode_envelope(target, {static_cast<const char*>(v.mv_data), v.mv_size}, e));
  std::string bytes(detail::envelope_size(e), '\0');
  detail::encode_envelope(bytes.data(), e, detail::shard_place{e.shard, 1});
  MDB_val nv{bytes.size(), bytes.data()};
  REQUIRE(mdb_put(txn, events, &k, &nv, 0) == 0);
  REQUIRE(mdb_txn_commit(txn) == 0);
  mdb_env_close(env);

  auto r = run_annal({"--data", data.path().string(), "--json", "verify"});
  CHECK(r.exit_code == 1);
  auto problems = of_kind(json_lines(r), "problem");
  REQUIRE(problems.size() == 1);
  CHECK(problems[0]["check"] == "event_shard");
  CHECK(problems[0]["position"] == target);
}
