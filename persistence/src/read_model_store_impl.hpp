// Internal: the state behind annal::read_model_store, shared by its source files.
#pragma once

#include <memory>
#include <mutex>

#include "annal/read_model_store.hpp"
#include "lmdb_env.hpp"
#include "write_group.hpp"

namespace annal {

struct read_model_store::impl {
  std::unique_ptr<detail::lmdb_env> env;
  std::unique_ptr<detail::write_group> writes; // every write() goes through it
  std::mutex tables_mutex; // LMDB: one dbi-opening transaction at a time per process
  MDB_dbi checkpoints() const { return env->dbi(0); }
};

} // namespace annal
