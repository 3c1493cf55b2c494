//! Adapters, their callback registries, the auth manager and the event bus (seed 000).
//!
//! A registry is its own entity and an adapter points at one. The event bus holds the
//! subscriptions the base adapters made at start-up; a clone copies an adapter, not its bus
//! subscription. So a handler registered on a clone runs only if the clone shares its
//! source's registry (the `Arc` fix): with the audited `Clone`, the clone gets a fresh, empty
//! registry that no event ever reaches.

use super::actions::{Action, AuthKind};
use super::actors::{Actors, AdapterKind, BASE_ADAPTERS};
use super::eventsub::Client;
use super::messages::BusMsg;
use super::variant::Switches;
use crate::engine::ctx::SimCtx;
use crate::engine::ids::Id;
use crate::engine::script::Act;
use crate::engine::trace::{Args, Event, EventKind};
use crate::engine::wire::{Inbound, Outbound};
use bevy_ecs::prelude::*;
use std::collections::BTreeMap;

/// An adapter (Twitch, OBS, test, or a clone of one).
#[derive(Component, Debug)]
pub struct Adapter {
    /// Its stable id.
    pub id: Id,
    /// What it adapts.
    pub kind: AdapterKind,
    /// The registry it registers callbacks in and dispatches events to.
    pub registry: Id,
    /// The base adapter it was cloned from, transitively (itself for a base adapter).
    pub root: Id,
}

/// A callback registry: the container behind the `Arc` (or not).
#[derive(Component, Debug, Default)]
pub struct Registry {
    /// Its stable id.
    pub id: Id,
    /// The registered callbacks, in registration order.
    pub entries: Vec<Entry>,
}

/// One registered callback: which handler, registered through which adapter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The handler.
    pub handler: Id,
    /// The adapter it was registered on.
    pub via: Id,
}

/// Where an adapter lives and which registry it points at.
#[derive(Clone, Copy, Debug)]
pub struct Route {
    /// The adapter's entity.
    pub entity: Entity,
    /// Its registry.
    pub registry: Id,
    /// Its base adapter.
    pub root: Id,
    /// Its kind.
    pub kind: AdapterKind,
}

/// Adapters and registries by id (ordered maps, so every walk is deterministic), and the
/// bus's subscribers.
#[derive(Resource, Default, Debug)]
pub struct Directory {
    /// Adapters by id.
    pub adapters: BTreeMap<Id, Route>,
    /// Registry entities by id.
    pub registries: BTreeMap<Id, Entity>,
    /// Adapters subscribed to the event bus, in subscription order.
    pub subscribers: Vec<Id>,
    /// Registrations made this tick, applied once spawned registries exist.
    pending: Vec<(Id, Entry)>,
}

/// The auth manager: whether auth is ok, and how many events it published.
#[derive(Resource, Default, Debug)]
pub struct AuthManager {
    /// Whether the current token is good.
    pub ok: bool,
    /// Events published so far.
    pub published: u32,
}

/// What the invariant needs: every registration, and each event's expected and reached handlers.
#[derive(Resource, Default, Debug)]
pub struct EventLedger {
    /// Every registration so far, on any adapter, in order.
    pub registrations: Vec<Entry>,
    /// Every published event.
    pub events: Vec<EventRecord>,
}

/// One published auth event.
#[derive(Clone, Debug)]
pub struct EventRecord {
    /// Its number.
    pub event: u32,
    /// Its kind.
    pub kind: AuthKind,
    /// The tick it was published.
    pub published: u64,
    /// Bus deliveries not yet made.
    pub pending: u32,
    /// The registrations made before it was published.
    pub expected: Vec<Entry>,
    /// The callbacks it ran.
    pub reached: Vec<Entry>,
    /// Whether the invariant has looked at it.
    pub judged: bool,
}

/// Start of a run: the base adapters, each with its own registry, subscribed to the bus.
pub fn setup(
    mut commands: Commands,
    actors: Res<Actors>,
    mut dir: ResMut<Directory>,
    mut auth: ResMut<AuthManager>,
    mut ledger: ResMut<EventLedger>,
) {
    *dir = Directory::default();
    *auth = AuthManager::default();
    *ledger = EventLedger::default();
    for (kind, (adapter, registry)) in BASE_ADAPTERS.into_iter().zip(actors.base) {
        let r = commands.spawn(Registry { id: registry, entries: Vec::new() }).id();
        let a = commands.spawn(Adapter { id: adapter, kind, registry, root: adapter }).id();
        dir.registries.insert(registry, r);
        dir.adapters.insert(adapter, Route { entity: a, registry, root: adapter, kind });
        dir.subscribers.push(adapter);
    }
}

/// `register_callback`, `clone_adapter` and `auth_event`.
#[allow(clippy::too_many_arguments)]
pub fn act(
    mut acts: MessageReader<Act<Action>>,
    mut commands: Commands,
    mut dir: ResMut<Directory>,
    mut auth: ResMut<AuthManager>,
    mut ledger: ResMut<EventLedger>,
    mut out: MessageWriter<Outbound<BusMsg>>,
    switches: Res<Switches>,
    actors: Res<Actors>,
    mut cx: SimCtx,
) {
    let now = cx.now();
    for act in acts.read() {
        match act.action {
            Action::RegisterCallback { adapter, handler } => {
                let Some(route) = dir.adapters.get(&adapter).copied() else { continue };
                let entry = Entry { handler, via: adapter };
                dir.pending.push((route.registry, entry));
                if !ledger.registrations.contains(&entry) {
                    ledger.registrations.push(entry);
                }
                cx.push_event(
                    Event::new(now, EventKind::Call, adapter, "register")
                        .other(handler)
                        .args(Args::EMPTY.id("registry", route.registry)),
                );
            }
            Action::CloneAdapter { from, to, registry } => {
                let Some(src) = dir.adapters.get(&from).copied() else { continue };
                // The bug: `Clone` builds a new container; the fix clones the `Arc`.
                let registry = if switches.shared_registry {
                    src.registry
                } else {
                    let r = commands.spawn(Registry { id: registry, entries: Vec::new() }).id();
                    dir.registries.insert(registry, r);
                    registry
                };
                let e = commands.spawn(Adapter { id: to, kind: src.kind, registry, root: src.root }).id();
                dir.adapters.insert(to, Route { entity: e, registry, root: src.root, kind: src.kind });
                cx.push_event(
                    Event::new(now, EventKind::State, to, "cloned")
                        .other(from)
                        .args(Args::EMPTY.id("registry", registry).b("shared", registry == src.registry)),
                );
            }
            Action::AuthEvent { kind } => {
                auth.ok = kind.ok();
                auth.published += 1;
                let event = auth.published;
                let expected = ledger.registrations.clone();
                ledger.events.push(EventRecord {
                    event,
                    kind,
                    published: now,
                    pending: dir.subscribers.len() as u32,
                    expected,
                    reached: Vec::new(),
                    judged: false,
                });
                cx.push_event(
                    Event::new(now, EventKind::State, actors.auth, "publish")
                        .other(actors.bus)
                        .args(Args::EMPTY.u("event", u64::from(event)).s("kind", kind.name()).b("ok", kind.ok())),
                );
                for &to in &dir.subscribers {
                    out.write(Outbound(BusMsg { event, kind, from: actors.bus, to }));
                }
            }
            _ => {}
        }
    }
}

/// Put this tick's registrations into their registries (after the spawns of `act` applied).
pub fn apply_registrations(mut dir: ResMut<Directory>, mut registries: Query<&mut Registry>) {
    let dir = &mut *dir;
    for (registry, entry) in dir.pending.drain(..) {
        if let Some(mut r) = dir.registries.get(&registry).and_then(|e| registries.get_mut(*e).ok()) {
            r.entries.push(entry);
        }
    }
}

/// A bus delivery reaches an adapter, which runs every callback in its registry.
#[allow(clippy::too_many_arguments)]
pub fn deliver(
    mut inbound: MessageReader<Inbound<BusMsg>>,
    dir: Res<Directory>,
    registries: Query<&Registry>,
    mut ledger: ResMut<EventLedger>,
    mut client: ResMut<Client>,
    actors: Res<Actors>,
    mut cx: SimCtx,
) {
    let now = cx.now();
    for Inbound { msg, .. } in inbound.read() {
        let Some(record) = ledger.events.get_mut(msg.event as usize - 1) else { continue };
        record.pending = record.pending.saturating_sub(1);
        let Some(route) = dir.adapters.get(&msg.to) else { continue };
        let Some(registry) = dir.registries.get(&route.registry).and_then(|e| registries.get(*e).ok()) else {
            continue;
        };
        for entry in &registry.entries {
            cx.metrics.add("adapters.callbacks_run", 1);
            record.reached.push(*entry);
            cx.push_event(
                Event::new(now, EventKind::Call, entry.handler, "callback")
                    .other(msg.to)
                    .args(Args::EMPTY.u("event", u64::from(msg.event)).s("kind", msg.kind.name()).id("via", entry.via)),
            );
            if entry.handler == actors.features {
                client.poke = true;
            }
        }
    }
}
