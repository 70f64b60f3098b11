#include "file_damage.hpp"

#include <unistd.h>

#include <fstream>
#include <iterator>
#include <random>
#include <stdexcept>

namespace annal::test {

namespace {

std::string read_all(const std::filesystem::path& file) {
  std::ifstream in{file, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

void write_all(const std::filesystem::path& file, const std::string& bytes) {
  std::ofstream out{file, std::ios::binary | std::ios::trunc};
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out)
    throw std::runtime_error("cannot write " + file.string());
}

} // namespace

std::size_t page_size() {
  return static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

void flip_random_bytes(const std::filesystem::path& file, int count, uint64_t seed) {
  auto bytes = read_all(file);
  std::mt19937_64 rng{seed};
  std::uniform_int_distribution<std::size_t> at{0, bytes.size() - 1};
  std::uniform_int_distribution<int> mask{1, 255};
  for (int i = 0; i < count; ++i) {
    auto& b = bytes[at(rng)];
    b = static_cast<char>(static_cast<unsigned char>(b) ^ static_cast<unsigned char>(mask(rng)));
  }
  write_all(file, bytes);
}

void flip_header_bytes(const std::filesystem::path& file, const std::vector<uint64_t>& pages,
                       int count, uint64_t seed) {
  // LMDB's page header: page number (bytes 0-7), pad (8-9, unused outside LEAF2 pages),
  // flags (10-11), lower and upper bounds (12-15).
  static const std::size_t offsets[] = {0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15};
  auto bytes = read_all(file);
  std::mt19937_64 rng{seed};
  std::uniform_int_distribution<std::size_t> page{0, pages.size() - 1};
  std::uniform_int_distribution<std::size_t> offset{0, std::size(offsets) - 1};
  std::uniform_int_distribution<int> mask{1, 255};
  for (int i = 0; i < count; ++i) {
    auto at = static_cast<std::size_t>(pages[page(rng)] * page_size()) + offsets[offset(rng)];
    auto& b = bytes.at(at);
    b = static_cast<char>(static_cast<unsigned char>(b) ^ static_cast<unsigned char>(mask(rng)));
  }
  write_all(file, bytes);
}

void truncate_to_pages(const std::filesystem::path& file, uint64_t pages) {
  std::filesystem::resize_file(file, pages * page_size());
}

uint64_t pages_of(const std::filesystem::path& file) {
  return std::filesystem::file_size(file) / page_size();
}

std::vector<uint64_t> pages_containing(const std::filesystem::path& file, const std::string& text) {
  auto bytes = read_all(file);
  std::vector<uint64_t> out;
  for (auto at = bytes.find(text); at != std::string::npos; at = bytes.find(text, at + 1)) {
    uint64_t page = at / page_size();
    if (out.empty() || out.back() != page)
      out.push_back(page);
  }
  return out;
}

void zero_page(const std::filesystem::path& file, uint64_t pgno) {
  auto bytes = read_all(file);
  auto from = static_cast<std::size_t>(pgno * page_size());
  if (from + page_size() > bytes.size())
    throw std::runtime_error("no page " + std::to_string(pgno) + " in " + file.string());
  std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(from),
            bytes.begin() + static_cast<std::ptrdiff_t>(from + page_size()), '\0');
  write_all(file, bytes);
}

} // namespace annal::test
