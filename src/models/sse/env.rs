//! What the model's logic needs from the engine on one tick, bundled so that the pieces
//! (server, proxy, worker) stay plain methods that tests can read.

use super::config::SseConfig;
use crate::engine::ids::{Id, Names};
use crate::engine::stats::Metrics;
use crate::engine::tape::Tape;
use crate::engine::trace::{Args, EventKind, Trace};

/// The engine's resources for one tick.
pub struct Env<'a> {
    /// The tick.
    pub now: u64,
    /// The model's configuration.
    pub cfg: &'a SseConfig,
    /// Whether faults apply now (before heal).
    pub faulty: bool,
    /// The decision tape.
    pub tape: &'a mut Tape,
    /// Counters.
    pub metrics: &'a mut Metrics,
    /// The trace.
    pub trace: &'a mut Trace,
    /// Id names, for the trace.
    pub names: &'a Names,
}

impl<'a> Env<'a> {
    /// Bundle the resources for tick `now`.
    pub fn new(
        now: u64,
        cfg: &'a SseConfig,
        faulty: bool,
        tape: &'a mut Tape,
        metrics: &'a mut Metrics,
        trace: &'a mut Trace,
        names: &'a Names,
    ) -> Self {
        Env { now, cfg, faulty, tape, metrics, trace, names }
    }

    /// Record a model event.
    pub fn log(&mut self, kind: EventKind, actor: Id, what: &'static str, other: Id, args: Args) {
        self.trace.record(self.names, self.now, kind, actor, what, other, args);
    }
}
