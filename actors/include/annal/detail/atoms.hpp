// Internal: the atoms of Annal's actor protocols.
#pragma once

#include <caf/atom.hpp>

namespace annal::detail {

using append_atom = caf::atom_constant<caf::atom("append")>;
using appended_atom = caf::atom_constant<caf::atom("appended")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using sync_atom = caf::atom_constant<caf::atom("sync")>;
using loaded_atom = caf::atom_constant<caf::atom("loaded")>;
using passivate_atom = caf::atom_constant<caf::atom("passivate")>;
using drain_atom = caf::atom_constant<caf::atom("drain")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using committed_atom = caf::atom_constant<caf::atom("committed")>;
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;
using job_atom = caf::atom_constant<caf::atom("job")>;
using stats_atom = caf::atom_constant<caf::atom("stats")>;
using go_live_atom = caf::atom_constant<caf::atom("go_live")>;
using progress_atom = caf::atom_constant<caf::atom("progress")>;
using ack_atom = caf::atom_constant<caf::atom("ack")>;
using behind_atom = caf::atom_constant<caf::atom("behind")>;
using unsub_atom = caf::atom_constant<caf::atom("unsub")>;
using catchup_atom = caf::atom_constant<caf::atom("catchup")>;
using poll_atom = caf::atom_constant<caf::atom("poll")>;
using wakeup_atom = caf::atom_constant<caf::atom("wakeup")>;
using retry_atom = caf::atom_constant<caf::atom("retry")>;
using restart_atom = caf::atom_constant<caf::atom("restart")>;
using skip_atom = caf::atom_constant<caf::atom("skip")>;
using rebuild_atom = caf::atom_constant<caf::atom("rebuild")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using timer_atom = caf::atom_constant<caf::atom("timer")>;
using expire_atom = caf::atom_constant<caf::atom("expire")>;
using import_atom = caf::atom_constant<caf::atom("import")>;
using forget_atom = caf::atom_constant<caf::atom("forget")>;
using pace_atom = caf::atom_constant<caf::atom("pace")>;
using recycled_atom = caf::atom_constant<caf::atom("recycled")>;
using bind_atom = caf::atom_constant<caf::atom("bind")>;

} // namespace annal::detail
