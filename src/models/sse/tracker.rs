//! The session's EventTracker: the seen-id window and `last_event_id`, as the seeds'
//! `record_event` keeps them.
//!
//! `record_event` here is the part of the seed's method before the persistence hand-off:
//! the duplicate check, the push into the window (dropping the oldest beyond
//! `max_tracked`), and the overwrite of `last_event_id`. The hand-off differs per variant
//! (`try_send`, or `send` under a timeout) and is modelled by the proxy system, which
//! also owns the blocked state of an awaiting send.

use super::window::{SeenWindow, Window, WindowKind};
use std::hash::Hash;

/// What `record_event` decided about an id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// The id is in the window: `SSE_DUPLICATE_EVENTS` is counted and nothing else happens.
    Duplicate,
    /// The id was new: it is now in the window and is `last_event_id`.
    New,
}

/// One session's tracker.
#[derive(Clone, Debug)]
pub struct EventTracker<K = u64> {
    seen: Window<K>,
    last_event_id: Option<K>,
    max_tracked: usize,
}

impl<K: Eq + Hash + Clone> EventTracker<K> {
    /// A fresh tracker (the seed's `EventTracker::new(session_id, max_tracked)`).
    pub fn new(kind: WindowKind, max_tracked: usize) -> Self {
        EventTracker { seen: Window::new(kind, max_tracked), last_event_id: None, max_tracked }
    }

    /// The seed's `record_event` up to the persistence hand-off.
    ///
    /// Note what the seed does: `last_event_id` is overwritten with whatever new id came
    /// last, not the largest. An old id that has left the window counts as new and moves
    /// `last_event_id` backwards.
    pub fn record_event(&mut self, id: &K) -> Recorded {
        if self.check(id) == Recorded::Duplicate {
            return Recorded::Duplicate;
        }
        self.push(id);
        Recorded::New
    }

    /// The first half of `record_event`: the duplicate check under the read lock
    /// (`seen.iter().any(..)`), which lets the lock go before the push takes the write lock.
    pub fn check(&self, id: &K) -> Recorded {
        if self.seen.contains(id) { Recorded::Duplicate } else { Recorded::New }
    }

    /// The second half, under the write lock: push without looking again (the seed does not
    /// re-check), drop the oldest beyond `max_tracked`, overwrite `last_event_id`. Two tasks
    /// whose checks both ran before either push record the same id twice.
    pub fn push(&mut self, id: &K) {
        self.seen.push(id.clone(), self.max_tracked);
        self.last_event_id = Some(id.clone());
    }

    /// The id a reconnect sends as `Last-Event-ID`.
    pub fn last_event_id(&self) -> Option<&K> {
        self.last_event_id.as_ref()
    }

    /// The window's ids, oldest first.
    pub fn window(&self) -> Vec<K> {
        self.seen.ids()
    }

    /// Ids in the window.
    pub fn tracked(&self) -> usize {
        self.seen.len()
    }

    /// Lose all in-memory state (a process restart), keeping the configuration.
    pub fn reset(&mut self) {
        self.seen.clear();
        self.last_event_id = None;
    }
}
