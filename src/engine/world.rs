//! [`SimWorld`]: the engine's plumbing for model code that runs with the whole `World` (an
//! exclusive system that walks a callback chain statement by statement), the counterpart
//! of [`crate::engine::SimCtx`] for ordinary systems.

use crate::engine::check::Violation;
use crate::engine::ids::Id;
use crate::engine::state::Engine;
use crate::engine::tape::Tape;
use crate::engine::timers::Timers;
use crate::engine::trace::{Args, EventKind};
use crate::engine::wire::{Outbound, Payload};
use bevy_ecs::prelude::*;

/// Engine services on a `World`. Each call fetches the [`Engine`] resource once; code that
/// makes several in a row can fetch it once itself with [`SimWorld::engine_mut`].
pub trait SimWorld {
    /// The engine's state.
    fn engine(&self) -> &Engine;
    /// The engine's state, to change.
    fn engine_mut(&mut self) -> Mut<'_, Engine>;
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
    fn engine(&self) -> &Engine {
        self.resource::<Engine>()
    }

    fn engine_mut(&mut self) -> Mut<'_, Engine> {
        self.resource_mut::<Engine>()
    }

    fn now(&self) -> u64 {
        self.engine().now()
    }

    fn faulty(&self) -> bool {
        self.engine().faulty()
    }

    fn entity_of(&self, id: Id) -> Option<Entity> {
        self.engine().entity(id)
    }

    fn by_id<C: Component<Mutability = bevy_ecs::component::Mutable>>(&mut self, id: Id) -> Option<Mut<'_, C>> {
        let e = self.entity_of(id)?;
        self.get_mut::<C>(e)
    }

    fn tape(&mut self) -> Mut<'_, Tape> {
        self.engine_mut().map_unchanged(|e| &mut e.tape)
    }

    fn trace_event(&mut self, kind: EventKind, actor: Id, what: &'static str, other: Id, args: Args) {
        // Nothing is recorded when the trace is off (`Trace::record` checks).
        self.engine_mut().trace_event(kind, actor, what, other, args);
    }

    fn tracing(&self) -> bool {
        self.engine().tracing()
    }

    fn count(&mut self, name: &'static str, n: u64) {
        self.engine_mut().count(name, n);
    }

    fn intern(&mut self, name: &str) -> Id {
        self.engine_mut().intern(name)
    }

    fn violate(&mut self, invariant: &'static str, detail: String, ids: Vec<Id>) {
        self.write_message(Violation { invariant, detail, ids });
    }

    fn halt(&mut self, limit: &'static str) {
        self.engine_mut().halt(limit);
    }

    fn send<M: Payload>(&mut self, msg: M) {
        self.write_message(Outbound(msg));
    }

    fn arm<T: Send + Sync + 'static>(&mut self, delay: u64, payload: T) {
        let now = self.now();
        self.resource_mut::<Timers<T>>().after(now, delay, payload);
    }
}
