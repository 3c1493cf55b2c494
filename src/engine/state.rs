//! [`Engine`]: the engine's per-run state (clock, tape, trace, ids, counters, verdict,
//! monitors, fault plan, agenda) as one resource.
//!
//! One resource, not fourteen, because of what a look-up costs: in Bevy 0.20 a resource
//! is an entity, and fetching one walks from its type to its entity to its table column,
//! about 130 instructions. A step of the headline race used to make about 35 of them (a
//! traced event alone took five: the trace twice, the names, the clock, the level). Now a
//! system or a [`crate::engine::SimWorld`] call fetches this one and splits the borrow.
//!
//! Models read it through [`crate::engine::SimCtx`] (which dereferences to it), through
//! `Res<Engine>` in a system that only reads, or through `SimWorld` in an exclusive system.

use crate::engine::Limits;
use crate::engine::agenda::Agenda;
use crate::engine::check::{Monitors, RunStatus};
use crate::engine::clock::{Clock, DueBoard, Horizon};
use crate::engine::faults::{Cuts, FaultPlan};
use crate::engine::ids::{Id, IdIndex, Names};
use crate::engine::stats::{Metrics, Stats};
use crate::engine::tape::Tape;
use crate::engine::trace::{Args, Event, EventKind, Trace};
use crate::engine::turnover::Turnover;
use bevy_ecs::prelude::*;

/// The engine's state for the current run. [`crate::engine::Sim::run`] puts every field
/// but the plan, the limits, the monitors' declarations and the names interned while
/// building back to its start-of-run value.
#[derive(Resource)]
pub struct Engine {
    /// The current virtual tick.
    pub clock: Clock,
    /// The earliest future tick a model asked for during this tick.
    pub horizon: Horizon,
    /// When the wires and the script are next due.
    pub due: DueBoard,
    /// The decision tape: every nondeterministic choice goes through it.
    pub tape: Tape,
    /// The run's trace.
    pub trace: Trace,
    /// Stable id names.
    pub names: Names,
    /// From stable id to entity (kept up to date by the [`Id`] component's hooks).
    pub index: IdIndex,
    /// Model counters.
    pub metrics: Metrics,
    /// Engine counters.
    pub stats: Stats,
    /// What the run has broken so far, and a limit reached.
    pub status: RunStatus,
    /// Liveness monitors.
    pub monitors: Monitors,
    /// The fault plan (the same in every run).
    pub plan: FaultPlan,
    /// The plan's partitions resolved to ids (rebuilt each run).
    pub cuts: Cuts,
    /// The run's limits (the same in every run).
    pub limits: Limits,
    /// What is due on the current tick, and in which order it is handed over.
    pub agenda: Agenda,
    /// Which of the engine's message types were written lately.
    pub turnover: Turnover,
}

impl Default for Engine {
    fn default() -> Self {
        Engine {
            clock: Clock::default(),
            horizon: Horizon::default(),
            due: DueBoard::default(),
            tape: Tape::default(),
            trace: Trace::default(),
            names: Names::default(),
            index: IdIndex::default(),
            metrics: Metrics::default(),
            stats: Stats::default(),
            status: RunStatus::default(),
            monitors: Monitors::default(),
            plan: FaultPlan::calm(),
            cuts: Cuts::default(),
            limits: Limits::default(),
            agenda: Agenda::default(),
            turnover: Turnover::default(),
        }
    }
}

impl Engine {
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

    /// End the run after this step with `Halted { limit }`: a bound on the model's own work
    /// (steps, live tasks, value sizes) was reached. A deterministic verdict, never an abort.
    pub fn halt(&mut self, limit: &'static str) {
        self.status.halt(limit);
    }

    /// Whether the trace records events (formatting can be skipped when it does not).
    pub fn tracing(&self) -> bool {
        self.trace.on()
    }

    /// Record that `actor` did `what` (to `other`, with `args`) now.
    pub fn trace_event(&mut self, kind: EventKind, actor: Id, what: &'static str, other: Id, args: Args) {
        self.trace.record(&self.names, self.clock.now, kind, actor, what, other, args);
    }

    /// Record `event` in the trace (the names print its ids).
    pub fn push_event(&mut self, event: Event) {
        self.trace.push(&self.names, event);
    }

    /// Add `n` to the counter `name`.
    pub fn count(&mut self, name: &'static str, n: u64) {
        self.metrics.add(name, n);
    }

    /// Tell the liveness monitor `monitor` whether it is hot for `key` now.
    pub fn monitor(&mut self, monitor: &'static str, key: Id, hot: bool) {
        self.monitors.set(monitor, key, hot, self.clock.now);
    }

    /// Ask for the clock to visit `tick` (see [`Horizon`]).
    pub fn wake_at(&mut self, tick: u64) {
        self.horizon.at(tick);
    }
}
