// The read-model environment: a second LMDB environment, apart from the journal, that
// holds projection read models and checkpoints (name -> global position). Keeping it
// apart means projection writes never wait on the journal's writer lock.
//
// Thread safety: safe for concurrent use. write() calls are serialized; reads run
// concurrently with them. A read_model_txn is valid only inside the callback it was
// given to, and the string_views it returns only until that callback returns.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "annal/duration_histogram.hpp"
#include "annal/expected_version.hpp"
#include "annal/result.hpp"
#include "annal/store_options.hpp"

namespace annal {

class event_store;

/// Which journal a read-model store reflects: the id the journal was given when it was
/// created (a new journal, also one that replaced a deleted one, gets a new id) and its
/// format version; `head` is the journal's last position when it was read.
struct journal_identity {
  std::string id;
  uint32_t format = 0;
  global_position head = 0;
};

/// The identity and head of `journal`. Errors: corrupt (no id or format recorded), io_error.
/// REQUIRES: no other thread uses `journal` meanwhile (call it at open, or from a tool): it
/// reads outside the store's transactions and adopts a map grown by another process.
result<journal_identity> identity_of(event_store& journal);

/// Handle of a named table of the read-model environment.
using table_id = unsigned;

/// Operations inside one read-model transaction.
class read_model_txn {
public:
  /// The value under `key`, or none. Errors: io_error.
  result<std::optional<std::string_view>> get(table_id table, std::string_view key) const;
  /// Stores `value` under `key` (1..511 bytes). Errors: bad_request, storage_full, io_error.
  status put(table_id table, std::string_view key, std::string_view value);
  /// Removes `key` if present.
  status erase(table_id table, std::string_view key);
  /// Calls `fn(key, value)` for keys starting with `prefix` in order, after `after` (when
  /// not empty); stops when fn returns false.
  status scan(table_id table, std::string_view prefix,
              const std::function<bool(std::string_view, std::string_view)>& fn,
              std::string_view after = {}) const;
  /// Deletes every entry of `table` (in this transaction).
  status clear(table_id table);
  /// The checkpoint `name` (0 when none).
  result<global_position> checkpoint(std::string_view name) const;
  /// Sets checkpoint `name` to `position` (in this transaction: atomically with the
  /// read-model writes beside it).
  status save_checkpoint(std::string_view name, global_position position);
  /// True inside write(), false inside read().
  bool writable() const noexcept { return writable_; }

private:
  friend class read_model_store;
  read_model_txn(void* txn, unsigned checkpoints, bool writable, bool* map_full)
    : txn_(txn), checkpoints_(checkpoints), writable_(writable), map_full_(map_full) {}
  void* txn_;
  unsigned checkpoints_;
  bool writable_;
  bool* map_full_;
};

class read_model_store {
public:
  /// Opens (creating when missing) the environment in options.dir.
  static result<std::unique_ptr<read_model_store>> open(const store_options& options);
  ~read_model_store();
  read_model_store(const read_model_store&) = delete;
  read_model_store& operator=(const read_model_store&) = delete;

  /// Opens (creating unless read-only) the named table. Errors: not_found (read-only and
  /// missing), bad_request (more than 250 tables), io_error.
  result<table_id> table(const std::string& name);

  /// Runs `fn` in a write transaction and commits when it returns success; otherwise
  /// nothing is written. `fn` may run again after the map grew, so it must be repeatable.
  status write(const std::function<status(read_model_txn&)>& fn);

  /// Runs `fn` in a read-only transaction.
  status read(const std::function<status(const read_model_txn&)>& fn) const;

  /// Deletes every entry of `table` (the table stays).
  status clear(table_id table);

  /// The checkpoint `name` (0 when none), in its own read transaction.
  result<global_position> load_checkpoint(std::string_view name) const;
  /// The checkpoint `name`, or none when it was never saved (unlike one saved as 0).
  result<std::optional<global_position>> find_checkpoint(std::string_view name) const;
  /// Sets checkpoint `name`, in its own write transaction.
  status save_checkpoint(std::string_view name, global_position position);
  /// Removes checkpoint `name`.
  status remove_checkpoint(std::string_view name);
  /// Every checkpoint, by name.
  result<std::vector<std::pair<std::string, global_position>>> checkpoints() const;

  // -- which journal the read models reflect ---------------------------------------------

  /// The journal these read models were bound to, or none (a new store, or one written
  /// before read models recorded their journal).
  result<std::optional<journal_identity>> bound_journal() const;

  /// Checks that these read models reflect `journal`: they were bound to it (or to no
  /// journal yet) and no checkpoint lies beyond its last position. Binds an unbound
  /// store (unless read-only). Errors: corrupt when the read models belong to another
  /// journal or are ahead of it (a deleted, emptied or older journal): they must be
  /// rebuilt (`annal rebuild --all`); io_error.
  status bind_journal(event_store& journal);

  /// Empties every table (read models, checkpoints, parked events, process state, timers)
  /// in one transaction and binds the store to `journal`: the read models then rebuild
  /// from the start of its log. Errors: bad_request (read-only), io_error, storage_full.
  status reset(event_store& journal);

  /// Forces buffered commits to disk (useful in no_sync mode).
  status flush();

  /// How long the commits of write() took, each shared by the writers grouped into it
  /// (transaction and sync; for metrics).
  duration_histogram::counts commit_durations() const noexcept;

  /// Copies a consistent, compacted image into the empty folder `dest` while the store
  /// keeps serving (mdb_env_copy2 with MDB_CP_COMPACT).
  status backup(const std::filesystem::path& dest);

  /// The underlying LMDB environment (MDB_env*), for tools that inspect it.
  void* native_handle() noexcept;

  const store_options& options() const noexcept;

private:
  struct impl;
  explicit read_model_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace annal
