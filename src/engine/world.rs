//! [`SimWorld`]: the engine's plumbing for model code that runs with the whole `World` (an
//! exclusive system that walks a callback chain statement by statement), the counterpart
//! of [`crate::engine::SimCtx`] for ordinary systems.

use crate::engine::check::{RunStatus, Violation};
use crate::engine::clock::Clock;
use crate::engine::faults::FaultPlan;
use crate::engine::ids::{Id, IdIndex, Names};
use crate::engine::stats::Metrics;
use crate::engine::tape::Tape;
use crate::engine::timers::Timers;
use crate::engine::trace::{Args, EventKind, Trace};
use crate::engine::wire::{Outbound, Payload};
use bevy_ecs::prelude::*;

/// Engine services on a `World`.
pub trait SimWorld {
    /// The current tick.
    fn now(&self) -> u64;
    /// Whether faults apply now (before the heal point).
    fn faulty(&self) -> bool;
    /// The entity that carries `id`, if one does.
    fn entity_of(&self, id: Id) -> Option<Entity>;
    /// Component `C` of the entity that carries `id`.
    fn by_id<C: Component<Mutability = bevy_ecs::component::Mutable>>(&mut self, id: Id) -> Option<Mut<'_, C>>;
    /// The decision tape.
    fn tape(&mut self) -> Mut<'_, Tape>;
    /// Record that `actor` did `what` now (to `other`, with `args`).
    fn trace_event(&mut self, kind: EventKind, actor: Id, what: &'static str, other: Id, args: Args);
    /// Whether the trace records events.
    fn tracing(&self) -> bool;
    /// Add `n` to the counter `name`.
    fn count(&mut self, name: &'static str, n: u64);
    /// The id named `name`, interned on first use.
    fn intern(&mut self, name: &str) -> Id;
    /// Report that `invariant` broke now.
    fn violate(&mut self, invariant: &'static str, detail: String, ids: Vec<Id>);
    /// End the run after this step with `Halted { limit }`.
    fn halt(&mut self, limit: &'static str);
    /// Put `msg` on the wire.
    fn send<M: Payload>(&mut self, msg: M);
    /// Arm a timer `delay` ticks from now.
    fn arm<T: Send + Sync + 'static>(&mut self, delay: u64, payload: T);
}

impl SimWorld for World {
    fn now(&self) -> u64 {
        self.resource::<Clock>().now
    }

    fn faulty(&self) -> bool {
        self.resource::<FaultPlan>().active(self.now())
    }

    fn entity_of(&self, id: Id) -> Option<Entity> {
        self.resource::<IdIndex>().get(id)
    }

    fn by_id<C: Component<Mutability = bevy_ecs::component::Mutable>>(&mut self, id: Id) -> Option<Mut<'_, C>> {
        let e = self.entity_of(id)?;
        self.get_mut::<C>(e)
    }

    fn tape(&mut self) -> Mut<'_, Tape> {
        self.resource_mut::<Tape>()
    }

    fn trace_event(&mut self, kind: EventKind, actor: Id, what: &'static str, other: Id, args: Args) {
        if !self.tracing() {
            return;
        }
        let now = self.now();
        let mut trace = std::mem::take(&mut *self.resource_mut::<Trace>());
        trace.record(self.resource::<Names>(), now, kind, actor, what, other, args);
        *self.resource_mut::<Trace>() = trace;
    }

    fn tracing(&self) -> bool {
        self.resource::<Trace>().on()
    }

    fn count(&mut self, name: &'static str, n: u64) {
        self.resource_mut::<Metrics>().add(name, n);
    }

    fn intern(&mut self, name: &str) -> Id {
        self.resource_mut::<Names>().intern(name)
    }

    fn violate(&mut self, invariant: &'static str, detail: String, ids: Vec<Id>) {
        self.write_message(Violation { invariant, detail, ids });
    }

    fn halt(&mut self, limit: &'static str) {
        self.resource_mut::<RunStatus>().halt(limit);
    }

    fn send<M: Payload>(&mut self, msg: M) {
        self.write_message(Outbound(msg));
    }

    fn arm<T: Send + Sync + 'static>(&mut self, delay: u64, payload: T) {
        let now = self.now();
        self.resource_mut::<Timers<T>>().after(now, delay, payload);
    }
}
