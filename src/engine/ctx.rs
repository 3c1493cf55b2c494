//! [`SimCtx`]: the engine's resources a model system needs, as one system parameter.
//!
//! ```
//! use racelab::prelude::*;
//! use racelab::engine::EventKind;
//! use racelab::engine::trace::Args;
//!
//! #[derive(Component)]
//! struct Socket { open: bool }
//!
//! // A model system: the clock, the tape, the trace, ids and violations through one parameter.
//! fn close_some(mut cx: SimCtx, mut sockets: Query<(&Id, &mut Socket)>) {
//!     for (&id, mut socket) in &mut sockets {
//!         if socket.open && cx.tape.chance("socket.close", 0.5) {
//!             socket.open = false;
//!             cx.trace(EventKind::State, id, "closed", Id::NONE, Args::EMPTY);
//!             cx.count("sockets.closed", 1);
//!         }
//!     }
//! }
//! # let mut app = App::empty();
//! # app.add_plugins(racelab::engine::EnginePlugin);
//! # app.add_systems(racelab::engine::schedule::TickSchedule, close_some);
//! ```

use crate::engine::check::{Monitors, RunStatus, Violation};
use crate::engine::clock::Clock;
use crate::engine::faults::FaultPlan;
use crate::engine::ids::{Id, IdIndex, Names};
use crate::engine::stats::Metrics;
use crate::engine::tape::Tape;
use crate::engine::trace::{Args, EventKind, Trace};
use bevy_ecs::message::MessageWriter;
use bevy_ecs::prelude::*;
use bevy_ecs::system::SystemParam;

/// The clock, the fault plan, the tape, the trace, the id names and index, metrics,
/// liveness monitors and the violation writer: everything of the engine a model system uses.
#[derive(SystemParam)]
pub struct SimCtx<'w> {
    clock: Res<'w, Clock>,
    plan: Res<'w, FaultPlan>,
    /// The decision tape: every nondeterministic choice goes through it.
    pub tape: ResMut<'w, Tape>,
    /// The run's trace.
    pub trace: ResMut<'w, Trace>,
    /// Stable id names.
    pub names: ResMut<'w, Names>,
    /// From stable id to entity.
    pub index: Res<'w, IdIndex>,
    /// Model counters.
    pub metrics: ResMut<'w, Metrics>,
    /// Liveness monitors.
    pub monitors: ResMut<'w, Monitors>,
    violations: MessageWriter<'w, Violation>,
    status: ResMut<'w, RunStatus>,
}

impl SimCtx<'_> {
    /// The current tick.
    pub fn now(&self) -> u64 {
        self.clock.now
    }

    /// Whether faults apply now (before the heal point).
    pub fn faulty(&self) -> bool {
        self.plan.active(self.clock.now)
    }

    /// The fault plan.
    pub fn plan(&self) -> &FaultPlan {
        &self.plan
    }

    /// Whether the trace records events (formatting can be skipped when it does not).
    pub fn tracing(&self) -> bool {
        self.trace.on()
    }

    /// Record that `actor` did `what` (to `other`, with `args`) now.
    pub fn trace(&mut self, kind: EventKind, actor: Id, what: &'static str, other: Id, args: Args) {
        self.trace.record(&self.names, self.clock.now, kind, actor, what, other, args);
    }

    /// Add `n` to the counter `name`.
    pub fn count(&mut self, name: &'static str, n: u64) {
        self.metrics.add(name, n);
    }

    /// The entity that carries `id`, if one does.
    pub fn entity(&self, id: Id) -> Option<Entity> {
        self.index.get(id)
    }

    /// The name of `id`.
    pub fn name(&self, id: Id) -> &str {
        self.names.name(id)
    }

    /// The id named `name`, interned on first use.
    pub fn intern(&mut self, name: &str) -> Id {
        self.names.intern(name)
    }

    /// Report that `invariant` broke now, with a detail and the ids involved.
    pub fn violate(&mut self, invariant: &'static str, detail: impl Into<String>, ids: Vec<Id>) {
        self.violations.write(Violation { invariant, detail: detail.into(), ids });
    }

    /// End the run after this step with `Halted { limit }`: a bound on the model's own work
    /// (steps, live tasks, value sizes) was reached. A deterministic verdict, never an abort.
    pub fn halt(&mut self, limit: &'static str) {
        self.status.halt(limit);
    }

    /// Tell the liveness monitor `monitor` whether it is hot for `key`.
    pub fn monitor(&mut self, monitor: &'static str, key: Id, hot: bool) {
        let now = self.clock.now;
        self.monitors.set(monitor, key, hot, now);
    }
}
