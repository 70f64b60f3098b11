// Internal: the on-disk layout of an LMDB 0.9 data file (data.mdb), as far as the file
// checker needs it. LMDB keeps these structures private to mdb.c; they are restated here
// from the documented format (64-bit, little-endian builds): every page starts with a
// 16-byte header, pages 0 and 1 are the two meta pages (the one with the larger txnid is
// current), and each meta holds the records of the free-page table and of the main table,
// whose leaf entries with F_SUBDATA are the records of the named tables.
#pragma once

#include <cstdint>
#include <cstring>

namespace annal::detail::lmdb_format {

static_assert(sizeof(void*) == 8, "the checker knows the 64-bit LMDB layout only");

inline constexpr uint32_t magic = 0xBEEFC0DE;
inline constexpr uint32_t data_version = 1;
inline constexpr uint64_t invalid_page = ~uint64_t{0};

// Page header: pgno (8), pad (2), flags (2), lower/upper (2 + 2) or overflow count (4).
inline constexpr std::size_t page_header_size = 16;
inline constexpr uint16_t p_branch = 0x01;
inline constexpr uint16_t p_leaf = 0x02;
inline constexpr uint16_t p_overflow = 0x04;
inline constexpr uint16_t p_meta = 0x08;
inline constexpr uint16_t p_dirty = 0x10;
inline constexpr uint16_t p_leaf2 = 0x20;
inline constexpr uint16_t p_keep = 0x8000;

// Node header: lo (2), hi (2), flags (2), key size (2); key, then data.
inline constexpr std::size_t node_header_size = 8;
inline constexpr uint16_t f_bigdata = 0x01;
inline constexpr uint16_t f_subdata = 0x02;
inline constexpr uint16_t f_dupdata = 0x04;

// Table flags kept in a table record.
inline constexpr uint16_t db_reversekey = 0x02;
inline constexpr uint16_t db_dupsort = 0x04;
inline constexpr uint16_t db_integerkey = 0x08;

// A table record (MDB_db): 48 bytes.
inline constexpr std::size_t db_record_size = 48;
// Meta (MDB_meta) after the page header: magic, version, address, map size, the free
// table's record (whose pad holds the page size), the main table's, last page, txnid.
inline constexpr std::size_t meta_size = 136;

template <class T>
T load(const unsigned char* p) noexcept {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

struct page_header {
  uint64_t pgno;
  uint16_t flags;
  uint16_t lower;
  uint16_t upper;
  uint32_t overflow_pages;
};

inline page_header read_page_header(const unsigned char* p) noexcept {
  return {load<uint64_t>(p), load<uint16_t>(p + 10), load<uint16_t>(p + 12),
          load<uint16_t>(p + 14), load<uint32_t>(p + 12)};
}

struct db_record {
  uint32_t pad = 0;
  uint16_t flags = 0;
  uint16_t depth = 0;
  uint64_t branch_pages = 0;
  uint64_t leaf_pages = 0;
  uint64_t overflow_pages = 0;
  uint64_t entries = 0;
  uint64_t root = invalid_page;
};

inline db_record read_db_record(const unsigned char* p) noexcept {
  return {load<uint32_t>(p),      load<uint16_t>(p + 4),  load<uint16_t>(p + 6),
          load<uint64_t>(p + 8),  load<uint64_t>(p + 16), load<uint64_t>(p + 24),
          load<uint64_t>(p + 32), load<uint64_t>(p + 40)};
}

struct meta {
  uint32_t magic;
  uint32_t version;
  uint64_t map_size;
  db_record free_db;
  db_record main_db;
  uint64_t last_page;
  uint64_t txnid;
  uint32_t page_size() const noexcept { return free_db.pad; }
};

// `p` points at the meta page's first byte (its page header).
inline meta read_meta(const unsigned char* page) noexcept {
  const unsigned char* m = page + page_header_size;
  return {load<uint32_t>(m),          load<uint32_t>(m + 4),      load<uint64_t>(m + 16),
          read_db_record(m + 24),     read_db_record(m + 72),     load<uint64_t>(m + 120),
          load<uint64_t>(m + 128)};
}

struct node {
  uint32_t data_size; // lo | hi << 16 (leaf)
  uint64_t child;     // lo | hi << 16 | flags << 32 (branch)
  uint16_t flags;
  uint16_t key_size;
};

inline node read_node(const unsigned char* p) noexcept {
  auto lo = load<uint16_t>(p), hi = load<uint16_t>(p + 2), flags = load<uint16_t>(p + 4);
  return {uint32_t{lo} | (uint32_t{hi} << 16),
          uint64_t{lo} | (uint64_t{hi} << 16) | (uint64_t{flags} << 32), flags,
          load<uint16_t>(p + 6)};
}

} // namespace annal::detail::lmdb_format
