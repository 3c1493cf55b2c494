//! The persistence path between the trackers and the worker: a real
//! `crossbeam_channel::bounded(capacity)`, driven from tick systems.
//!
//! No thread ever blocks on it. A sender only calls `try_send`; an awaiting `send` is the
//! proxy's blocked state, retried on later ticks until it gets a slot, the receiver is gone,
//! or its timeout (in ticks) runs out. The worker only calls `try_recv`.

use crate::engine::ids::Id;
use bevy_ecs::prelude::*;
use crossbeam_channel::{Receiver, Sender, TrySendError};

/// The seed's `PersistenceRequest`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PersistenceRequest {
    /// The session the id belongs to.
    pub session: Id,
    /// The event id to persist as the session's `last_event_id`.
    pub event_id: u64,
    /// Retries so far (0 when the tracker sends it).
    pub attempt: u32,
}

/// What a non-blocking send found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendOutcome {
    /// The request is in the channel.
    Queued,
    /// The channel is at capacity.
    Full,
    /// The receiver is gone.
    Closed,
}

/// The channel. Re-created at the start of every run.
#[derive(Resource)]
pub struct PersistenceChannel {
    tx: Sender<PersistenceRequest>,
    rx: Option<Receiver<PersistenceRequest>>,
    capacity: usize,
}

impl PersistenceChannel {
    /// A fresh `bounded(capacity)` channel.
    pub fn new(capacity: usize) -> Self {
        let (tx, rx) = crossbeam_channel::bounded(capacity);
        PersistenceChannel { tx, rx: Some(rx), capacity }
    }

    /// `try_send`.
    pub fn try_send(&self, req: PersistenceRequest) -> SendOutcome {
        match self.tx.try_send(req) {
            Ok(()) => SendOutcome::Queued,
            Err(TrySendError::Full(_)) => SendOutcome::Full,
            Err(TrySendError::Disconnected(_)) => SendOutcome::Closed,
        }
    }

    /// `try_recv`; `None` when empty or closed.
    pub fn try_recv(&self) -> Option<PersistenceRequest> {
        self.rx.as_ref()?.try_recv().ok()
    }

    /// Drop the receiver: every later send finds the channel closed, and whatever was
    /// queued is gone with it.
    pub fn close(&mut self) -> usize {
        let lost = self.tx.len();
        self.rx = None;
        lost
    }

    /// Whether the receiver was dropped.
    pub fn is_closed(&self) -> bool {
        self.rx.is_none()
    }

    /// Requests queued now.
    pub fn len(&self) -> usize {
        if self.rx.is_none() { 0 } else { self.tx.len() }
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The capacity it was made with.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}
