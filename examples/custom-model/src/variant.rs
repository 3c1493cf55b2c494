//! The variants: the client's current code and two fixes. Every behavioural difference
//! between them is one of the two switches below; the systems ask the switches, never the
//! variant's name.

// The prelude includes racelab's `bevy_ecs`, which Bevy's derives expand to: the crate needs
// no Bevy dependency of its own.
use racelab::prelude::*;

/// Which version of the client runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// The current code: `ws.onclose = () => { this.socket = null; this.connected = false }`,
    /// whichever socket `this.socket` is by the time the close completes.
    Bug,
    /// Fix 1: `ws.onclose = () => { if (this.socket !== ws) return; ... }`.
    Guard,
    /// Fix 2: `reconnect()` sets `old.onclose = old.onopen = null` before `old.close()`.
    Detach,
}

/// The variants as scenarios name them, in the order `racelab list` shows.
pub const VARIANTS: Variants<Variant> = Variants::new(
    "sockets",
    &[
        (Variant::Bug, "bug", "onclose clears whatever socket is current: the old socket's close can null the new one"),
        (Variant::Guard, "guard", "onclose returns unless its socket is still the client's current one"),
        (Variant::Detach, "detach", "reconnect() detaches the old socket's handlers before closing it"),
    ],
);

impl Variant {
    /// Whether `onclose` first checks that the socket closing is still `this.socket`.
    pub fn onclose_checks_its_socket(self) -> bool {
        matches!(self, Variant::Guard)
    }

    /// Whether `reconnect()` removes the old socket's handlers before closing it, so that
    /// its close, whenever it completes, runs no callback.
    pub fn detaches_before_close(self) -> bool {
        matches!(self, Variant::Detach)
    }
}

/// The variant in force (a resource; it never changes during a run, so it needs no reset).
#[derive(Resource, Clone, Copy, Debug)]
pub struct Fix(pub Variant);
