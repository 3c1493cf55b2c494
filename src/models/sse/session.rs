//! A session entity (server, proxy with its tracker, consumer) and the index that lets
//! systems visit sessions in a fixed order.

use super::actions::SessionIds;
use crate::engine::ids::Id;
use bevy_ecs::prelude::*;

/// Marks a session entity and names its actors.
#[derive(Component, Debug, Clone, Copy)]
pub struct Session {
    /// Its ids.
    pub ids: SessionIds,
    /// Whether `start_session` ran.
    pub started: bool,
}

/// The sessions a scenario names, in the order of their `start_session` steps (fixed at
/// install, so the order never depends on what earlier runs interned).
#[derive(Resource, Debug, Clone, Default)]
pub struct Roster(pub Vec<SessionIds>);

/// The session entities of the current run, by id, in roster order.
#[derive(Resource, Debug, Default)]
pub struct Sessions {
    list: Vec<(Id, Entity)>,
}

impl Sessions {
    /// Forget the previous run's entities.
    pub fn clear(&mut self) {
        self.list.clear();
    }

    /// Add a session.
    pub fn add(&mut self, id: Id, entity: Entity) {
        self.list.push((id, entity));
    }

    /// The entity of session `id`.
    pub fn get(&self, id: Id) -> Option<Entity> {
        self.list.iter().find(|(i, _)| *i == id).map(|(_, e)| *e)
    }

    /// Every session, in roster order.
    pub fn list(&self) -> &[(Id, Entity)] {
        &self.list
    }
}

/// The ids of the shared actors.
#[derive(Resource, Debug, Clone, Copy)]
pub struct Actors {
    /// The store.
    pub store: Id,
    /// The persistence worker.
    pub worker: Id,
}
