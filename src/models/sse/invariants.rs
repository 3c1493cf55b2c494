//! The model's invariants and liveness monitors.
//!
//! - `no_duplicate_delivery`: the application never gets an event id twice for a session,
//!   across reconnects and restarts.
//! - `no_silent_loss`: the tracker never drops an event as a duplicate that the application
//!   never got (safety); and while a session's stream is open, every event its server
//!   emitted reaches the application within `deadline` ticks after heal (liveness: replay
//!   must fill every gap). Events lost with a broken stream are counted
//!   (`stream.lost_on_disconnect`) and must come back by replay. A stream that Option 2's
//!   `?` ended counts as open: nobody chose to close it.
//! - `persisted_id_monotonic`: a session's stored `last_event_id` never decreases.
//! - `metrics_consistent`: the seeds' counters (duplicates, queued, channel closed,
//!   backpressure timeout) add up to the `record_event` calls that returned. Judged only for
//!   the timed `send`, the one path whose code the seeds show with its counters (seed 001
//!   Option 1, seed 003 step 4); the synchronous `try_send` and Option 2's caller come with
//!   no counting code to hold them to.
//! - `store_catches_up` (liveness): the store reaches the newest id the application got,
//!   for every started session, within `deadline` ticks after heal.

use super::consumer::Consumer;
use super::metrics as m;
use super::proxy::{Proxy, SendMode};
use super::server::Server;
use super::session::{Session, Sessions};
use super::store::Store;
use super::systems::Design;
use crate::engine::Engine;
use crate::engine::check::Violation;
use crate::engine::ids::Id;
use bevy_ecs::prelude::*;

/// Every invariant and monitor, by name.
pub const ALL: &[&str] =
    &["no_duplicate_delivery", "no_silent_loss", "persisted_id_monotonic", "metrics_consistent", "store_catches_up"];

/// Liveness: the application is missing events of an open stream.
pub const MONITOR_GAP: &str = "no_silent_loss";
/// Liveness: the store is behind what the application got.
pub const MONITOR_STORE: &str = "store_catches_up";

/// Broken invariants noticed by model systems as they happen, turned into violations in
/// the Check stage.
#[derive(Resource, Debug, Default)]
pub struct Findings(Vec<Violation>);

impl Findings {
    /// Note that `invariant` broke.
    pub fn push(&mut self, invariant: &'static str, detail: String, ids: Vec<Id>) {
        self.0.push(Violation { invariant, detail, ids });
    }

    /// Forget everything (start of a run).
    pub fn clear(&mut self) {
        self.0.clear();
    }
}

/// Turn findings and store regressions into violations.
pub fn report_findings(
    mut findings: ResMut<Findings>,
    mut store: ResMut<Store>,
    engine: Res<Engine>,
    mut out: MessageWriter<Violation>,
) {
    for r in store.take_regressions() {
        out.write(Violation {
            invariant: "persisted_id_monotonic",
            detail: format!(
                "the stored last_event_id of {} went from {} back to {}",
                engine.names.name(r.session),
                r.before,
                r.after
            ),
            ids: vec![r.session],
        });
    }
    for v in findings.0.drain(..) {
        out.write(v);
    }
}

/// The seeds' counters must account for every event `record_event` saw (timed `send` only).
pub fn check_metrics(engine: Res<Engine>, design: Res<Design>, mut out: MessageWriter<Violation>) {
    if design.send != SendMode::SendTimeout {
        return;
    }
    let counted = engine.metrics.get(m::DUPLICATES)
        + engine.metrics.get(m::QUEUED)
        + engine.metrics.get(m::CHANNEL_CLOSED)
        + engine.metrics.get(m::BACKPRESSURE_TIMEOUT);
    let recorded = engine.metrics.get(m::RECORDED);
    if counted != recorded {
        out.write(Violation {
            invariant: "metrics_consistent",
            detail: format!(
                "record_event returned {recorded} times but the counters add up to {counted} (duplicates {}, queued {}, channel closed {}, backpressure timeout {}); {} request(s) dropped uncounted",
                engine.metrics.get(m::DUPLICATES),
                engine.metrics.get(m::QUEUED),
                engine.metrics.get(m::CHANNEL_CLOSED),
                engine.metrics.get(m::BACKPRESSURE_TIMEOUT),
                recorded.saturating_sub(counted),
            ),
            ids: Vec::new(),
        });
    }
}

/// Update the liveness monitors of every started session.
pub fn update_monitors(
    sessions: Res<Sessions>,
    q: Query<(&Session, &Server, &Proxy, &Consumer)>,
    store: Res<Store>,
    mut engine: ResMut<Engine>,
) {
    for &(_, entity) in sessions.list() {
        let Ok((session, server, proxy, consumer)) = q.get(entity) else { continue };
        if !session.started {
            continue;
        }
        let id = session.ids.session;
        let gap = (proxy.conn.is_some() || proxy.ended) && consumer.distinct < server.log_len;
        engine.monitor(MONITOR_GAP, id, gap);
        let behind = store.get(id).unwrap_or(0) < consumer.max;
        engine.monitor(MONITOR_STORE, id, behind);
    }
}
