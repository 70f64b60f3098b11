#include "soak/store_probe.hpp"

#include <cstring>
#include <fstream>

namespace annal::soak {

namespace {

// LMDB's on-disk meta page (64-bit build): a 16-byte page header, then MDB_meta:
// magic u32, version u32, address u64, mapsize u64, two MDB_db of 48 bytes (the first's
// md_pad holds the page size), last_pg u64, txnid u64.
constexpr std::size_t header = 16;
constexpr std::size_t mapsize_at = header + 16;
constexpr std::size_t pagesize_at = header + 24;
constexpr std::size_t txnid_at = header + 24 + 96 + 8;
constexpr uint32_t magic = 0xBEEFC0DE;

struct meta {
  uint64_t mapsize = 0;
  uint64_t txnid = 0;
  uint32_t pagesize = 0;
  bool valid = false;
};

meta read_meta(std::ifstream& in, std::size_t offset) {
  char buf[txnid_at + 8] = {};
  meta m;
  in.clear();
  in.seekg(static_cast<std::streamoff>(offset));
  if (!in.read(buf, sizeof buf))
    return m;
  uint32_t mg = 0;
  std::memcpy(&mg, buf + header, 4);
  if (mg != magic)
    return m;
  std::memcpy(&m.mapsize, buf + mapsize_at, 8);
  std::memcpy(&m.pagesize, buf + pagesize_at, 4);
  std::memcpy(&m.txnid, buf + txnid_at, 8);
  m.valid = true;
  return m;
}

} // namespace

store_size probe_store(const std::filesystem::path& dir) {
  store_size out;
  auto file = dir / "data.mdb";
  std::error_code ec;
  auto bytes = std::filesystem::file_size(file, ec);
  if (ec)
    return out;
  out.file_mib = static_cast<double>(bytes) / (1 << 20);
  std::ifstream in{file, std::ios::binary};
  auto first = read_meta(in, 0);
  if (!first.valid || first.pagesize == 0 || first.pagesize > (1u << 16))
    return out;
  auto second = read_meta(in, first.pagesize);
  auto newer = second.valid && second.txnid > first.txnid ? second : first;
  out.map_mib = static_cast<double>(newer.mapsize) / (1 << 20);
  return out;
}

} // namespace annal::soak
