// annal upgrade: the format-2 journal checked into tests/data (written by the code before
// format 3) is upgraded in place, and verify passes before and after.
#include <catch2/catch.hpp>

#include <filesystem>

#include "cli_json.hpp"
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
