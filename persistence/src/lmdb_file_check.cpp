#include "lmdb_file_check.hpp"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "annal/store_file_check.hpp"
#include "lmdb_env.hpp"
#include "lmdb_page_format.hpp"

namespace annal::detail {

namespace {

namespace fmt = lmdb_format;

std::string hex(uint64_t v) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s;
  do {
    s.insert(s.begin(), digits[v & 15]);
    v >>= 4;
  } while (v != 0);
  return "0x" + s;
}

// The page-by-page walk of one snapshot. Thread safety: one thread.
class walker {
public:
  walker(const unsigned char* base, std::string file, const fmt::meta& m)
    : base_(base), file_(std::move(file)), psize_(m.page_size()), last_(m.last_page),
      state_(m.last_page + 1, unused) {
    state_[0] = state_[1] = used; // the meta pages
  }

  result<lmdb_file_stats> run(const fmt::meta& m) {
    if (auto ok = walk_table("(free pages)", m.free_db, kind::free_list); !ok)
      return std::move(ok).error();
    if (auto ok = walk_table("(main)", m.main_db, kind::main); !ok)
      return std::move(ok).error();
    // Named tables are walked after the main table (their records are its leaves).
    for (std::size_t i = 0; i < named_.size(); ++i)
      if (auto ok = walk_table(named_[i].first, named_[i].second, kind::named); !ok)
        return std::move(ok).error();
    lmdb_file_stats stats;
    stats.file_pages = last_ + 1;
    for (auto pgno : free_) {
      if (state_[pgno] == used)
        return fail("page " + std::to_string(pgno) + " is listed as free but is in use");
      if (state_[pgno] == freed)
        return fail("page " + std::to_string(pgno) + " is listed as free twice");
      state_[pgno] = freed;
      ++stats.free_pages;
    }
    stats.used_pages = static_cast<uint64_t>(std::count(state_.begin(), state_.end(), used));
    stats.txnid = m.txnid;
    return stats;
  }

private:
  enum class kind { free_list, main, named };
  enum : uint8_t { unused = 0, used = 1, freed = 2 };

  // Counts of one table's tree, compared with its record at the end.
  struct table_walk {
    const std::string& name;
    const fmt::db_record& db;
    kind k;
    // The free-page table's flags word also carries environment flags: it is known to
    // use integer keys and nothing else.
    bool integer_keys = k == kind::free_list || (db.flags & lmdb_format::db_integerkey) != 0;
    bool reverse_keys = k != kind::free_list && (db.flags & lmdb_format::db_reversekey) != 0;
    bool dupsort = k != kind::free_list && (db.flags & lmdb_format::db_dupsort) != 0;
    uint64_t branch = 0, leaf = 0, overflow = 0, entries = 0;
  };

  error fail(const std::string& what) const {
    return make_error(errc::corrupt, file_ + " is damaged: " + what);
  }

  std::string where(uint64_t pgno, const table_walk& t) const {
    return "page " + std::to_string(pgno) + " of table '" + t.name + "'";
  }

  // The page `pgno`. REQUIRES: pgno <= last_ (the map covers pages 0..last_).
  const unsigned char* page_at(uint64_t pgno) const noexcept { return base_ + pgno * psize_; }

  // Marks pages [pgno, pgno + count) as reached; false when one lies outside the file or
  // was reached before (then claim_error says which, for `by`).
  bool claim(uint64_t pgno, uint64_t count) {
    if (pgno < 2 || pgno > last_ || count > last_ + 1 - pgno)
      return false;
    for (uint64_t p = pgno; p < pgno + count; ++p) {
      if (state_[p] != unused)
        return false;
      state_[p] = used;
    }
    return true;
  }

  error claim_error(const std::string& by, uint64_t pgno, uint64_t count) const {
    if (pgno < 2 || pgno > last_ || count > last_ + 1 - pgno)
      return fail(by + " refers to page " + std::to_string(pgno) + " (+" + std::to_string(count)
                  + "), outside pages 2.." + std::to_string(last_));
    return fail(by + " refers to page " + std::to_string(pgno) + " (+" + std::to_string(count)
                + "), reached twice");
  }

  status walk_table(const std::string& name, const fmt::db_record& db, kind k) {
    table_walk t{name, db, k};
    if (db.root == fmt::invalid_page) {
      if (db.depth != 0 || db.entries != 0 || db.leaf_pages != 0 || db.branch_pages != 0)
        return fail("table '" + name + "' has no root but records "
                    + std::to_string(db.entries) + " entries");
      return {};
    }
    if (db.depth == 0 || db.depth > 32)
      return fail("table '" + name + "' records depth " + std::to_string(db.depth));
    if (!claim(db.root, 1))
      return claim_error("the record of table '" + name + "'", db.root, 1);
    if (auto ok = walk_page(db.root, 0, t); !ok)
      return ok;
    if (t.branch != db.branch_pages || t.leaf != db.leaf_pages || t.overflow != db.overflow_pages
        || (!t.dupsort && t.entries != db.entries))
      return fail("table '" + name + "' records " + std::to_string(db.branch_pages) + "/"
                  + std::to_string(db.leaf_pages) + "/" + std::to_string(db.overflow_pages)
                  + " branch/leaf/overflow pages and " + std::to_string(db.entries)
                  + " entries; its tree has " + std::to_string(t.branch) + "/"
                  + std::to_string(t.leaf) + "/" + std::to_string(t.overflow) + " and "
                  + std::to_string(t.entries));
    return {};
  }

  // True when `b` sorts after `a` under the table's comparison (only the default and
  // integer comparisons are known; other tables are not checked for order).
  static bool in_order(const table_walk& t, const unsigned char* a, std::size_t an,
                       const unsigned char* b, std::size_t bn) {
    if (t.integer_keys) {
      if (an == 8 && bn == 8)
        return fmt::load<uint64_t>(a) < fmt::load<uint64_t>(b);
      if (an == 4 && bn == 4)
        return fmt::load<uint32_t>(a) < fmt::load<uint32_t>(b);
      return false;
    }
    if (t.reverse_keys)
      return true;
    int c = std::memcmp(a, b, std::min(an, bn));
    return c < 0 || (c == 0 && an < bn);
  }

  status walk_page(uint64_t pgno, unsigned level, table_walk& t) {
    const unsigned char* page = page_at(pgno);
    auto h = fmt::read_page_header(page);
    if (h.pgno != pgno)
      return fail(where(pgno, t) + " holds the header of page " + std::to_string(h.pgno)
                  + " (zeroed or overwritten)");
    bool leaf_level = level + 1u == t.db.depth;
    uint16_t flags = h.flags & static_cast<uint16_t>(~(fmt::p_dirty | fmt::p_keep));
    if (flags != (leaf_level ? fmt::p_leaf : fmt::p_branch))
      return fail(where(pgno, t) + " should be a " + (leaf_level ? "leaf" : "branch")
                  + " page at depth " + std::to_string(level + 1) + ", its flags are "
                  + hex(h.flags));
    if (h.lower < fmt::page_header_size || (h.lower - fmt::page_header_size) % 2 != 0
        || h.lower > h.upper || h.upper > psize_)
      return fail(where(pgno, t) + " has free-space bounds " + std::to_string(h.lower) + ".."
                  + std::to_string(h.upper) + " outside its " + std::to_string(psize_) + " bytes");
    std::size_t n = (h.lower - fmt::page_header_size) / 2;
    if (n == 0)
      return fail(where(pgno, t) + " holds no entry");
    (leaf_level ? t.leaf : t.branch) += 1;
    const unsigned char* prev_key = nullptr;
    std::size_t prev_size = 0;
    for (std::size_t i = 0; i < n; ++i) {
      auto off = fmt::load<uint16_t>(page + fmt::page_header_size + 2 * i);
      if (off < h.upper || off + fmt::node_header_size > psize_)
        return fail(where(pgno, t) + ": entry " + std::to_string(i) + " lies at offset "
                    + std::to_string(off) + ", outside the page's entry area");
      auto node = fmt::read_node(page + off);
      const unsigned char* key = page + off + fmt::node_header_size;
      std::size_t room = psize_ - off - fmt::node_header_size;
      bool big = leaf_level && (node.flags & fmt::f_bigdata) != 0;
      std::size_t data_size = !leaf_level ? 0 : big ? 8 : node.data_size;
      if (node.key_size > room || data_size > room - node.key_size)
        return fail(where(pgno, t) + ": entry " + std::to_string(i) + " (key "
                    + std::to_string(node.key_size) + " bytes, data "
                    + std::to_string(node.data_size) + " bytes) overruns the page");
      // A branch page's first key is not stored (it stands for everything below).
      if (leaf_level || i > 0) {
        if (prev_key != nullptr && !in_order(t, prev_key, prev_size, key, node.key_size))
          return fail(where(pgno, t) + ": entry " + std::to_string(i) + " is out of key order");
        prev_key = key;
        prev_size = node.key_size;
      }
      if (!leaf_level) {
        if (!claim(node.child, 1))
          return claim_error(where(pgno, t), node.child, 1);
        if (auto ok = walk_page(node.child, level + 1, t); !ok)
          return ok;
        continue;
      }
      if (auto ok = check_leaf_entry(pgno, i, node, key, t); !ok)
        return ok;
    }
    return {};
  }

  status check_leaf_entry(uint64_t pgno, std::size_t i, const fmt::node& node,
                          const unsigned char* key, table_walk& t) {
    ++t.entries;
    const unsigned char* data = key + node.key_size;
    if ((node.flags & fmt::f_dupdata) != 0 && !t.dupsort)
      return fail(where(pgno, t) + ": entry " + std::to_string(i)
                  + " is flagged as duplicates in a table without them");
    std::string big;
    const unsigned char* value = data;
    if ((node.flags & fmt::f_bigdata) != 0) {
      auto first = fmt::load<uint64_t>(data);
      if (auto ok = check_overflow(first, node.data_size, t, pgno, i,
                                   t.k == kind::free_list ? &big : nullptr);
          !ok)
        return ok;
      value = reinterpret_cast<const unsigned char*>(big.data());
    }
    if ((node.flags & fmt::f_subdata) != 0 && (node.flags & fmt::f_dupdata) == 0) {
      if (t.k != kind::main || node.data_size != fmt::db_record_size)
        return fail(where(pgno, t) + ": entry " + std::to_string(i)
                    + " is flagged as a table record but is not one");
      std::string name{reinterpret_cast<const char*>(key), node.key_size};
      named_.emplace_back(std::move(name), fmt::read_db_record(data));
    }
    if (t.k == kind::free_list)
      return collect_free(value, node.data_size, pgno, t);
    return {};
  }

  status check_overflow(uint64_t first, uint32_t size, table_walk& t, uint64_t pgno,
                        std::size_t i, std::string* content) {
    auto by = where(pgno, t) + " entry " + std::to_string(i);
    if (first < 2 || first > last_)
      return fail(by + " refers to overflow page " + std::to_string(first) + ", outside pages 2.."
                  + std::to_string(last_));
    auto h = fmt::read_page_header(page_at(first));
    uint64_t needed = (fmt::page_header_size - 1 + uint64_t{size}) / psize_ + 1;
    if (h.pgno != first || (h.flags & fmt::p_overflow) == 0 || h.overflow_pages < needed)
      return fail(by + " refers to overflow page " + std::to_string(first) + ", which holds "
                  + (h.pgno != first ? "the header of page " + std::to_string(h.pgno)
                                     : "flags " + hex(h.flags) + " and "
                                         + std::to_string(h.overflow_pages) + " page(s) for "
                                         + std::to_string(size) + " bytes"));
    if (!claim(first, h.overflow_pages))
      return claim_error(by, first, h.overflow_pages);
    t.overflow += h.overflow_pages;
    if (content != nullptr)
      content->assign(reinterpret_cast<const char*>(page_at(first)) + fmt::page_header_size, size);
    return {};
  }

  // A free-list value: a count, then that many page numbers.
  status collect_free(const unsigned char* value, uint32_t size, uint64_t pgno,
                      const table_walk& t) {
    if (size < 8 || size % 8 != 0 || fmt::load<uint64_t>(value) != size / 8 - 1)
      return fail(where(pgno, t) + " holds a malformed list of free pages");
    for (std::size_t j = 1; j < size / 8; ++j) {
      auto p = fmt::load<uint64_t>(value + 8 * j);
      if (p < 2 || p > last_)
        return fail(where(pgno, t) + " lists page " + std::to_string(p)
                    + " as free, outside pages 2.." + std::to_string(last_));
      free_.push_back(p);
    }
    return {};
  }

  const unsigned char* base_;
  std::string file_;
  uint32_t psize_;
  uint64_t last_;
  std::vector<uint8_t> state_;
  std::vector<uint64_t> free_;
  std::vector<std::pair<std::string, fmt::db_record>> named_;
};

bool valid_page_size(uint32_t s) {
  return s >= 512 && s <= 65536 && (s & (s - 1)) == 0;
}

// Reads the meta page at `offset`; none when it is not a valid meta page.
std::optional<fmt::meta> read_meta_at(int fd, off_t offset) {
  unsigned char buf[fmt::page_header_size + fmt::meta_size];
  if (::pread(fd, buf, sizeof(buf), offset) != static_cast<ssize_t>(sizeof(buf)))
    return std::nullopt;
  auto h = fmt::read_page_header(buf);
  auto m = fmt::read_meta(buf);
  if ((h.flags & fmt::p_meta) == 0 || m.magic != fmt::magic || m.version != fmt::data_version
      || !valid_page_size(m.page_size()))
    return std::nullopt;
  return m;
}

// The meta page of snapshot `txnid`; none when both meta pages moved on since.
result<std::optional<fmt::meta>> meta_of(int fd, const std::string& file, uint64_t txnid) {
  auto m0 = read_meta_at(fd, 0);
  if (!m0)
    return make_error(errc::corrupt, file + " is damaged: meta page 0 is not valid");
  auto m1 = read_meta_at(fd, static_cast<off_t>(m0->page_size()));
  if (!m1 || m1->page_size() != m0->page_size())
    return make_error(errc::corrupt, file + " is damaged: meta page 1 is not valid");
  if (m0->txnid == txnid)
    return std::optional<fmt::meta>{*m0};
  if (m1->txnid == txnid)
    return std::optional<fmt::meta>{*m1};
  return std::optional<fmt::meta>{};
}

} // namespace

result<lmdb_file_stats> check_lmdb_file(MDB_env* env, const std::filesystem::path& dir) {
  auto file = (dir / "data.mdb").string();
  int fd = -1;
  if (int rc = mdb_env_get_fd(env, &fd); rc != 0)
    return lmdb_error(rc, "mdb_env_get_fd");
  // A writer in another process may commit twice between our begin and our read of the
  // meta pages (then neither describes our snapshot): try again, a bounded number of times.
  for (int attempt = 0; attempt < 100; ++attempt) {
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn);
    if (rc == MDB_MAP_RESIZED) {
      mdb_env_set_mapsize(env, 0);
      continue;
    }
    if (rc != 0)
      return lmdb_error(rc, ("begin the check of " + file).c_str());
    struct abort_at_exit {
      MDB_txn* t;
      ~abort_at_exit() { mdb_txn_abort(t); }
    } guard{txn};
    auto m = meta_of(fd, file, mdb_txn_id(txn));
    if (!m)
      return std::move(m).error();
    if (!*m)
      continue;
    struct stat st {};
    if (::fstat(fd, &st) != 0)
      return make_error(errc::io_error, "stat " + file + ": " + std::strerror(errno));
    auto size = static_cast<uint64_t>(st.st_size);
    auto psize = (*m)->page_size();
    if ((*m)->last_page < 1 || (*m)->last_page >= size / psize)
      return make_error(errc::corrupt, file + " is damaged: it holds " + std::to_string(size)
                                         + " bytes, but its pages reach up to page "
                                         + std::to_string((*m)->last_page) + " of "
                                         + std::to_string(psize) + " bytes (truncated?)");
    // A map of our own over exactly the pages the meta page claims, which the file holds
    // (checked above): no access can fall beyond the end of the file (SIGBUS).
    auto bytes = static_cast<std::size_t>(((*m)->last_page + 1) * psize);
    void* map = ::mmap(nullptr, bytes, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED)
      return make_error(errc::io_error, "mmap " + file + ": " + std::strerror(errno));
    auto stats = walker{static_cast<const unsigned char*>(map), file, **m}.run(**m);
    ::munmap(map, bytes);
    return stats;
  }
  return make_error(errc::unavailable, file + " kept changing during its check");
}

} // namespace annal::detail

namespace annal {

result<store_file_stats> check_store_file(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir / "data.mdb", ec))
    return make_error(errc::not_found, "no store at " + dir.string());
  MDB_env* env = nullptr;
  if (int rc = mdb_env_create(&env); rc != 0)
    return detail::lmdb_error(rc, "mdb_env_create");
  struct close_at_exit {
    MDB_env* e;
    ~close_at_exit() { mdb_env_close(e); }
  } guard{env};
  auto path = dir.string();
  // Opening reads and validates both meta pages (pread) and maps the file; nothing of the
  // map is touched before the check passes.
  if (int rc = mdb_env_open(env, path.c_str(), MDB_RDONLY | MDB_NOTLS | MDB_NORDAHEAD, 0644);
      rc != 0)
    return detail::lmdb_error(rc, ("cannot open " + path).c_str());
  auto s = detail::check_lmdb_file(env, dir);
  if (!s)
    return std::move(s).error();
  return store_file_stats{s->file_pages, s->used_pages, s->free_pages};
}

} // namespace annal
