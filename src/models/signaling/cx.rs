//! The context model code runs in: the world, the manager, and the handlers' shorthand for
//! what every Dart method does (await, send, trace, change a connection's state), on top of
//! the engine's [`SimWorld`].

use super::components::{Client, ClientState, Pc, PcState};
use super::invariants::{Facts, SendFact};
use super::manager::Manager;
use super::signal::{SigKind, Signal, Wake};
use super::{Params, Variant};
use crate::engine::trace::{Args, EventKind};
use crate::engine::{Id, SimWorld, Tape};
use bevy_ecs::prelude::*;

/// Everything a handler needs. The manager is taken out of the world for the duration.
pub struct Cx<'a> {
    /// The world (entities, engine resources).
    pub world: &'a mut World,
    /// The ConnectionManager + WebRTCService state.
    pub mgr: &'a mut Manager,
    /// The variant being modelled.
    pub variant: Variant,
    /// Timing parameters.
    pub params: Params,
    /// The current tick.
    pub now: u64,
}

impl<'a> Cx<'a> {
    /// A context over `world` and `mgr`.
    pub fn new(world: &'a mut World, mgr: &'a mut Manager, variant: Variant, params: Params) -> Self {
        let now = world.now();
        Cx { world, mgr, variant, params, now }
    }

    /// The tape.
    pub fn tape(&mut self) -> Mut<'_, Tape> {
        self.world.tape()
    }

    /// Arm a timer `delay` ticks from now.
    pub fn timer(&mut self, delay: u64, wake: Wake) {
        self.world.arm(delay, wake);
    }

    /// How long an awaited platform future takes: a tape choice in the `await` range.
    pub fn await_delay(&mut self) -> u64 {
        let (lo, hi) = self.params.await_ticks;
        self.tape().range("await", lo, hi)
    }

    /// Record a trace event.
    pub fn trace(&mut self, kind: EventKind, actor: Id, what: &'static str, other: Id, args: Args) {
        self.world.trace_event(kind, actor, what, other, args);
    }

    /// Count `name`.
    pub fn count(&mut self, name: &'static str) {
        self.world.count(name, 1);
    }

    /// A client by id (None while its spawn is pending: it cannot be, see `spawn_client`).
    pub fn client(&mut self, id: Id) -> Option<Mut<'_, Client>> {
        self.world.by_id::<Client>(id)
    }

    /// A peer connection by id.
    pub fn pc(&mut self, id: Id) -> Option<Mut<'_, Pc>> {
        self.world.by_id::<Pc>(id)
    }

    /// A copy of a peer connection's state.
    pub fn pc_copy(&mut self, id: Id) -> Option<Pc> {
        self.pc(id).map(|p| p.clone())
    }

    /// Whether `client` exists and `isConnected`.
    pub fn connected(&mut self, client: Option<Id>) -> bool {
        client.and_then(|c| self.client(c)).is_some_and(|c| c.state == ClientState::Connected)
    }

    /// Spawn an entity with `component` under stable id `id` (immediately visible, and
    /// found by id through the engine's index).
    pub fn spawn<C: Component>(&mut self, id: Id, component: C) {
        self.world.spawn((id, component));
    }

    /// Intern a name.
    pub fn intern(&mut self, name: &str) -> Id {
        self.world.intern(name)
    }

    /// `client._send(...)`: a send on a disposed client is recorded for the invariants; a
    /// client whose socket is open puts the message on the wire, any other drops it silently
    /// (as `_send` does once `_isConnected` is false).
    pub fn send(&mut self, client: Id, kind: SigKind, peer: Id, pc: Id) {
        let Some(c) = self.client(client).map(|c| c.clone()) else {
            return;
        };
        let (pc_session, pc_peer) = self.pc_copy(pc).map_or((None, Id::NONE), |p| (p.session, p.peer));
        self.world.resource_mut::<Facts>().sends.push(SendFact {
            client,
            disposed: c.disposed,
            kind,
            pc,
            pc_session,
            pc_peer,
            target: peer,
        });
        self.trace(EventKind::Call, client, "send", peer, Args::EMPTY.s("kind", kind.name()).id("pc", pc));
        if c.state == ClientState::Connected {
            self.world.send(Signal { from: client, to: c.server, kind, peer, pc, via: client });
        } else {
            self.count("signaling.sends_dropped_not_connected");
        }
    }

    /// Move a peer connection to `to`, recording the transition for `valid_state_transitions`.
    pub fn set_state(&mut self, pc: Id, to: PcState) {
        let Some(mut p) = self.pc(pc) else { return };
        let from = p.state;
        if from == to {
            return;
        }
        p.state = to;
        let peer = p.peer;
        self.world.resource_mut::<Facts>().transitions.push((pc, from, to));
        self.trace(EventKind::State, pc, to.name(), peer, Args::EMPTY.s("from", from.name()));
    }
}
