// Command-line errors and unusable data folders: one clear line on stderr, the documented
// exit code, never a crash or a stack trace.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "annal/read_model_store.hpp"
#include "annal_process.hpp"
#include "journal_surgery.hpp"
#include "shop_store.hpp"
#include "temp_dir.hpp"

using namespace annal;
using namespace annal::test;

namespace {

// One line, starting "annal: ", mentioning `text`.
void require_one_line_error(const cli_run& r, const std::string& text) {
  INFO("stderr: " << r.err);
  REQUIRE(r.out.empty());
  REQUIRE(r.err.rfind("annal: ", 0) == 0);
  REQUIRE(r.err.find('\n') == r.err.size() - 1);
  REQUIRE(r.err.find(text) != std::string::npos);
}

} // namespace

TEST_CASE("usage errors exit with 2 and help with 0", "[cli][usage]") {
  auto none = run_annal({});
  CHECK(none.exit_code == 2);
  require_one_line_error(none, "subcommand");

  auto help = run_annal({"--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("Exit codes") != std::string::npos);
  CHECK(help.out.find("verify") != std::string::npos);

  auto misspelt = run_annal({"--data", "/tmp", "stat"});
  CHECK(misspelt.exit_code == 2);
  require_one_line_error(misspelt, "unknown subcommand 'stat'");

  auto bad_option = run_annal({"--data", "/tmp", "stats", "--bogus"});
  CHECK(bad_option.exit_code == 2);
  require_one_line_error(bad_option, "bogus");

  auto no_data = run_annal({"stats"});
  CHECK(no_data.exit_code == 2);
  require_one_line_error(no_data, "--data");

  auto missing_arg = run_annal({"--data", "/tmp", "events"});
  CHECK(missing_arg.exit_code == 2);
  require_one_line_error(missing_arg, "stream");

  auto bad_number = run_annal({"--data", "/tmp", "log", "--limit", "many"});
  CHECK(bad_number.exit_code == 2);
}

TEST_CASE("a missing or foreign data folder exits with 3 and one line", "[cli][usage]") {
  temp_dir dir;
  auto missing = run_annal({"--data", (dir / "nowhere").string(), "stats"});
  CHECK(missing.exit_code == 3);
  require_one_line_error(missing, "no data folder");

  auto empty = run_annal({"--data", dir.path().string(), "verify"});
  CHECK(empty.exit_code == 3);
  require_one_line_error(empty, "not an Annal data folder");

  // A read-model environment where the journal should be: another kind of store.
  {
    store_options o;
    o.dir = dir / "journal";
    auto rm = read_model_store::open(o);
    REQUIRE(rm);
  }
  auto foreign = run_annal({"--data", dir.path().string(), "stats"});
  CHECK(foreign.exit_code == 3);
  require_one_line_error(foreign, "another kind of store");

  // Garbage where LMDB expects its file.
  temp_dir junk;
  std::filesystem::create_directories(junk / "journal");
  {
    std::ofstream f{(junk / "journal" / "data.mdb").string(), std::ios::binary};
    f << std::string(64 * 1024, 'x');
  }
  auto garbage = run_annal({"--data", junk.path().string(), "log"});
  CHECK(garbage.exit_code == 3);
  require_one_line_error(garbage, "journal");

  // The journal folder itself instead of the data folder: a hint.
  temp_dir data;
  write_shop_journal(data.path());
  auto inner = run_annal({"--data", (data / "journal").string(), "stats"});
  CHECK(inner.exit_code == 3);
  require_one_line_error(inner, "pass its parent");
}

TEST_CASE("a journal of another format exits with 3", "[cli][usage]") {
  temp_dir data;
  write_shop_journal(data.path());
  journal_surgery{data / "journal"}.set_format_version(99);
  temp_dir elsewhere;
  for (const char* cmd : {"stats", "verify", "log", "backup"}) {
    std::vector<std::string> args{"--data", data.path().string(), cmd};
    if (std::string{cmd} == "backup")
      args.push_back((elsewhere / "copy").string());
    auto r = run_annal(args);
    INFO(cmd);
    CHECK(r.exit_code == 3);
    require_one_line_error(r, "format version 99");
  }
}

TEST_CASE("a service's admin binary names itself in its error lines, not annal", "[cli][usage]") {
  // The same library under another program name, as a service's `my-service-admin` would be.
  temp_dir dir;
  auto admin = dir.path() / "my-service-admin";
  std::filesystem::create_symlink(std::filesystem::absolute(ANNAL_CLI), admin);
  auto r = run_program(admin.string(), {"--data", (dir.path() / "missing").string(), "stats"});
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 3);
  CHECK(r.err.rfind("my-service-admin: ", 0) == 0);
  CHECK(r.err.find("annal: ") == std::string::npos);
  auto usage = run_program(admin.string(), {});
  CHECK(usage.exit_code == 2);
  CHECK(usage.err.rfind("my-service-admin: ", 0) == 0);
}
