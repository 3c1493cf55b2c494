//! The store: the persisted `last_event_id` of each session.
//!
//! It takes one write at a time (the worker awaits each). The tape picks each write's
//! latency within `[sse] store_latency` and whether it fails (`store_fail`), until heal;
//! `stall_store` holds every write until the stall ends. The store overwrites blindly:
//! keeping the id from going backwards is the worker's job, checked by
//! `persisted_id_monotonic`.

use crate::engine::ids::Id;
use bevy_ecs::prelude::*;
use std::collections::BTreeMap;

/// A write the store is working on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Write {
    /// Whose id.
    pub session: Id,
    /// The id written.
    pub event_id: u64,
    /// The retry count of the request it came from.
    pub attempt: u32,
    /// The tick it completes (or fails).
    pub due: u64,
    /// Whether it will fail.
    pub fails: bool,
}

/// A write that completed, handed back to the worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteDone {
    /// The write.
    pub write: Write,
    /// Whether it took effect.
    pub ok: bool,
}

/// A write that lowered a session's persisted id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Regression {
    /// Whose.
    pub session: Id,
    /// What was stored.
    pub before: u64,
    /// What overwrote it.
    pub after: u64,
}

/// The store's state in a run.
#[derive(Resource, Debug, Default)]
pub struct Store {
    values: BTreeMap<Id, u64>,
    stalled_until: u64,
    in_flight: Option<Write>,
    done: Option<WriteDone>,
    regressions: Vec<Regression>,
}

impl Store {
    /// The persisted id of `session`.
    pub fn get(&self, session: Id) -> Option<u64> {
        self.values.get(&session).copied()
    }

    /// Whether a write is in progress.
    pub fn busy(&self) -> bool {
        self.in_flight.is_some()
    }

    /// The write in progress.
    pub fn in_flight(&self) -> Option<&Write> {
        self.in_flight.as_ref()
    }

    /// Begin a write of `event_id` for `session` at `now`, taking `latency` ticks (pushed
    /// past any stall) and failing if `fails`.
    pub fn begin(&mut self, now: u64, session: Id, event_id: u64, attempt: u32, latency: u64, fails: bool) -> Write {
        let due = now.max(self.stalled_until) + latency.max(1);
        let w = Write { session, event_id, attempt, due, fails };
        self.in_flight = Some(w);
        w
    }

    /// Stall every write until `until` (a write in progress is held too).
    pub fn stall(&mut self, until: u64) {
        self.stalled_until = self.stalled_until.max(until);
        if let Some(w) = &mut self.in_flight {
            w.due = w.due.max(self.stalled_until);
        }
    }

    /// Complete the write in progress if it is due at `now`.
    pub fn complete(&mut self, now: u64) -> Option<WriteDone> {
        let w = self.in_flight.filter(|w| w.due <= now)?;
        self.in_flight = None;
        if !w.fails {
            let before = self.values.insert(w.session, w.event_id);
            if let Some(before) = before
                && before > w.event_id
            {
                self.regressions.push(Regression { session: w.session, before, after: w.event_id });
            }
        }
        let done = WriteDone { write: w, ok: !w.fails };
        self.done = Some(done);
        Some(done)
    }

    /// Take the completed write for the worker.
    pub fn take_done(&mut self) -> Option<WriteDone> {
        self.done.take()
    }

    /// Take the regressions seen since the last call.
    pub fn take_regressions(&mut self) -> Vec<Regression> {
        std::mem::take(&mut self.regressions)
    }

    /// The tick the next write completes.
    pub fn next_due(&self) -> Option<u64> {
        self.in_flight.map(|w| w.due)
    }
}
