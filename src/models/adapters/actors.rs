//! The model's fixed actors and their stable ids.

use crate::engine::ids::{Id, Names};
use bevy_ecs::prelude::*;

/// What an adapter adapts; a clone keeps its source's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdapterKind {
    /// The TwitchAdapter of seed 000.
    Twitch,
    /// The ObsAdapter the seed's action plan says to check next.
    Obs,
    /// The TestAdapter.
    Test,
}

impl AdapterKind {
    /// The name in traces.
    pub fn name(self) -> &'static str {
        match self {
            AdapterKind::Twitch => "twitch",
            AdapterKind::Obs => "obs",
            AdapterKind::Test => "test",
        }
    }
}

/// The adapters that exist from start-up, each subscribed to the event bus. Scenario steps
/// name them by these names; clones get the names their `clone_adapter` step gives.
pub const BASE_ADAPTERS: [AdapterKind; 3] = [AdapterKind::Twitch, AdapterKind::Obs, AdapterKind::Test];

/// The name of the handler that is the feature manager: on an auth event it (re)starts or
/// tears down the reactive chain. Every other handler only records what it receives.
pub const FEATURES_HANDLER: &str = "features";

/// The id of the registry an adapter named `adapter` creates for itself.
pub fn registry_name(adapter: &str) -> String {
    format!("registry:{adapter}")
}

/// The id of a channel named `name` (IRC style, `#name`).
pub fn channel_name(name: &str) -> String {
    if name.starts_with('#') { name.to_owned() } else { format!("#{name}") }
}

/// Stable ids of the fixed actors, interned once per simulation.
#[derive(Resource, Clone, Copy, Debug)]
pub struct Actors {
    /// The auth manager.
    pub auth: Id,
    /// The event bus.
    pub bus: Id,
    /// The feature manager (also the name of its handler).
    pub features: Id,
    /// The EventSub client.
    pub eventsub: Id,
    /// The Twitch API (Helix and the EventSub endpoint).
    pub helix: Id,
    /// The bot's chat connection (its reader is the chat handler).
    pub chat: Id,
    /// The chat server.
    pub irc: Id,
    /// The reconnection coordinator.
    pub coordinator: Id,
    /// The health monitor.
    pub health: Id,
    /// The global user-lock and circuit-breaker registries.
    pub registries: Id,
    /// The base adapters and their registries, in [`BASE_ADAPTERS`] order.
    pub base: [(Id, Id); 3],
}

impl Actors {
    /// Intern every fixed name.
    pub fn intern(names: &mut Names) -> Actors {
        let base = BASE_ADAPTERS.map(|k| (names.intern(k.name()), names.intern(&registry_name(k.name()))));
        Actors {
            auth: names.intern("auth"),
            bus: names.intern("bus"),
            features: names.intern(FEATURES_HANDLER),
            eventsub: names.intern("eventsub"),
            helix: names.intern("helix"),
            chat: names.intern("chat"),
            irc: names.intern("irc"),
            coordinator: names.intern("coordinator"),
            health: names.intern("health"),
            registries: names.intern("registries"),
            base,
        }
    }
}
