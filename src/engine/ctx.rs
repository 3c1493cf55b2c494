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

use crate::engine::check::Violation;
use crate::engine::ids::Id;
use crate::engine::state::Engine;
use crate::engine::trace::{Args, EventKind};
use bevy_ecs::message::MessageWriter;
use bevy_ecs::prelude::*;
use bevy_ecs::system::SystemParam;
use std::ops::{Deref, DerefMut};

/// The engine's state ([`Engine`]: clock, fault plan, tape, trace, id names and index,
/// metrics, liveness monitors) and the violation writer: everything of the engine a model
/// system uses, in two fetches. It dereferences to [`Engine`], so `cx.tape`, `cx.names`
/// and the rest are its fields and `cx.now()`, `cx.count(..)`, `cx.monitor(..)` and the rest
/// its methods.
#[derive(SystemParam)]
pub struct SimCtx<'w> {
    engine: ResMut<'w, Engine>,
    violations: MessageWriter<'w, Violation>,
}

impl Deref for SimCtx<'_> {
    type Target = Engine;
    fn deref(&self) -> &Engine {
        &self.engine
    }
}

impl DerefMut for SimCtx<'_> {
    fn deref_mut(&mut self) -> &mut Engine {
        &mut self.engine
    }
}

impl SimCtx<'_> {
    /// Record that `actor` did `what` (to `other`, with `args`) now.
    pub fn trace(&mut self, kind: EventKind, actor: Id, what: &'static str, other: Id, args: Args) {
        self.engine.trace_event(kind, actor, what, other, args);
    }

    /// Report that `invariant` broke now, with a detail and the ids involved.
    pub fn violate(&mut self, invariant: &'static str, detail: impl Into<String>, ids: Vec<Id>) {
        self.violations.write(Violation { invariant, detail: detail.into(), ids });
    }
}
