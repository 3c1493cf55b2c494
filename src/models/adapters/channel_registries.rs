//! The global per-channel registries of audit items 14 and 15: user locks and circuit
//! breakers, keyed by channel. Entries are created on use; as audited, nothing ever removes
//! them, so they only grow. The fix removes a channel's entries when the bot leaves it.

use crate::engine::ids::Id;
use bevy_ecs::prelude::*;
use std::collections::BTreeSet;

/// The user-lock and circuit-breaker registries.
#[derive(Resource, Default, Debug)]
pub struct ChannelRegistries {
    /// Channels with a user lock (`_USER_LOCKS`), created on join.
    pub locks: BTreeSet<Id>,
    /// Channels with a circuit breaker (`_circuit_breakers`), created on the first API call
    /// for the channel.
    pub breakers: BTreeSet<Id>,
}

impl ChannelRegistries {
    /// Forget every entry of `channel` (the fix).
    pub fn prune(&mut self, channel: Id) {
        self.locks.remove(&channel);
        self.breakers.remove(&channel);
    }
}
