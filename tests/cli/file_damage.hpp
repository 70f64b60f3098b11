// Damage done to a closed store's data.mdb below LMDB, the kinds a disk or a careless
// operator does: random flipped bytes, a truncated file, a zeroed page.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace annal::test {

/// LMDB's page size on this machine (the pages of data.mdb).
std::size_t page_size();

/// XORs a random non-zero mask into `count` random bytes of `file`, the same bytes for
/// the same `seed` and file size.
void flip_random_bytes(const std::filesystem::path& file, int count, uint64_t seed);

/// XORs a random non-zero mask into `count` random bytes of the headers (page number,
/// flags, bounds) of `pages`: damage the structural check must find wherever it lands.
void flip_header_bytes(const std::filesystem::path& file, const std::vector<uint64_t>& pages,
                       int count, uint64_t seed);

/// Cuts `file` down to its first `pages` pages.
void truncate_to_pages(const std::filesystem::path& file, uint64_t pages);

/// The number of pages of `file`.
uint64_t pages_of(const std::filesystem::path& file);

/// The pages of `file` that contain `text` (stale copies in free pages included).
std::vector<uint64_t> pages_containing(const std::filesystem::path& file, const std::string& text);

/// Overwrites page `pgno` of `file` with zeroes.
void zero_page(const std::filesystem::path& file, uint64_t pgno);

} // namespace annal::test
