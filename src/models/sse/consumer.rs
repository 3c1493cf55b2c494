//! The application that consumes a session's events: it records what it got, in order.

use bevy_ecs::prelude::*;

/// What the application has received.
#[derive(Component, Debug, Default)]
pub struct Consumer {
    /// `got[id]`: whether event `id` arrived (ids start at 1).
    got: Vec<bool>,
    /// Distinct ids received.
    pub distinct: u64,
    /// Largest id received.
    pub max: u64,
    /// Every id received, in order (duplicates included).
    pub order: Vec<u64>,
}

impl Consumer {
    /// Whether `id` arrived before.
    pub fn has(&self, id: u64) -> bool {
        self.got.get(id as usize).copied().unwrap_or(false)
    }

    /// Take delivery of `id`; false if it had arrived before (a duplicate delivery).
    pub fn deliver(&mut self, id: u64) -> bool {
        self.order.push(id);
        let i = id as usize;
        if self.got.len() <= i {
            self.got.resize(i + 1, false);
        }
        if self.got[i] {
            return false;
        }
        self.got[i] = true;
        self.distinct += 1;
        self.max = self.max.max(id);
        true
    }
}
