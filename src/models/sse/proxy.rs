//! The proxy side of a session: it reads the stream in order, runs each event through the
//! tracker's `record_event`, hands new ids to the persistence channel the way the variant
//! does, and forwards new events to the application once `record_event` returns.
//!
//! With an awaiting `send` the stream task is blocked inside `record_event`: the event
//! waits, and every event read after it queues behind it, until the send gets a slot, finds
//! the receiver gone, or times out.

use super::actions::SessionIds;
use super::channel::{PersistenceChannel, PersistenceRequest, SendOutcome};
use super::consumer::Consumer;
use super::env::Env;
use super::invariants::Findings;
use super::messages::Frame;
use super::metrics as m;
use super::tracker::{EventTracker, Recorded};
use super::window::WindowKind;
use crate::engine::trace::{Args, EventKind};
use bevy_ecs::prelude::*;
use std::collections::{BTreeMap, VecDeque};

/// How the tracker hands a new id to the channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendMode {
    /// Seed 003's synchronous callback: `try_send`; a full or closed channel drops the
    /// request. Only `PERSISTENCE_QUEUED` is counted: the seeds' other counters live in the
    /// async path.
    TrySend,
    /// Seed 003's async callback and seed 001's channel-owning tracker:
    /// `timeout(send_timeout, tx.send(req))`, counting queued, closed and timeout.
    SendTimeout,
}

/// An awaiting `send`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Blocked {
    /// The event whose `record_event` is waiting.
    pub frame: Frame,
    /// When the wait began.
    pub since: u64,
    /// When it times out.
    pub deadline: u64,
}

/// The proxy's state for one session.
#[derive(Component, Debug)]
pub struct Proxy {
    /// The connection being read, if the stream is open.
    pub conn: Option<u32>,
    /// The number the next connection gets.
    pub next_conn: u32,
    next_seq: u32,
    /// Frames that arrived ahead of their turn (the wire may reorder; TCP does not).
    reorder: BTreeMap<u32, Frame>,
    /// Events read in order, waiting for `record_event`.
    queue: VecDeque<Frame>,
    /// The EventTracker.
    pub tracker: EventTracker,
    /// The awaiting send, if any.
    pub blocked: Option<Blocked>,
}

impl Proxy {
    /// A proxy with a fresh tracker.
    pub fn new(kind: WindowKind, max_tracked: usize) -> Self {
        Proxy {
            conn: None,
            next_conn: 1,
            next_seq: 0,
            reorder: BTreeMap::new(),
            queue: VecDeque::new(),
            tracker: EventTracker::new(kind, max_tracked),
            blocked: None,
        }
    }

    /// Open the next connection; returns its number.
    pub fn open(&mut self) -> u32 {
        let conn = self.next_conn;
        self.next_conn += 1;
        self.conn = Some(conn);
        self.next_seq = 0;
        conn
    }

    /// The stream breaks: events read but not yet recorded are lost with it. Returns how
    /// many. An awaiting send is not interrupted (the task notices the break only after
    /// `record_event` returns).
    pub fn break_stream(&mut self) -> u64 {
        let lost = (self.reorder.len() + self.queue.len()) as u64;
        self.reorder.clear();
        self.queue.clear();
        self.conn = None;
        lost
    }

    /// A frame arrived from the wire.
    pub fn receive(&mut self, env: &mut Env, f: Frame) {
        if self.conn != Some(f.conn) {
            env.metrics.add(m::STALE_FRAMES, 1);
            return;
        }
        if f.seq < self.next_seq || self.reorder.contains_key(&f.seq) {
            // A copy the wire made: TCP would never hand it up twice.
            return;
        }
        if f.seq == self.next_seq && self.reorder.is_empty() {
            // In order (the usual case): no reassembly needed.
            self.next_seq += 1;
            self.queue.push_back(f);
            return;
        }
        self.reorder.insert(f.seq, f);
        while let Some(f) = self.reorder.remove(&self.next_seq) {
            self.next_seq += 1;
            self.queue.push_back(f);
        }
    }

    /// Run queued events through `record_event` until the queue is empty or a send blocks.
    pub fn process(
        &mut self,
        env: &mut Env,
        ids: SessionIds,
        mode: SendMode,
        channel: &PersistenceChannel,
        consumer: &mut Consumer,
        findings: &mut Findings,
    ) {
        while self.blocked.is_none() {
            let Some(f) = self.queue.pop_front() else { return };
            self.record(env, ids, mode, channel, consumer, findings, f);
        }
    }

    /// Whether events wait for `record_event` (not counting a blocked one).
    pub fn has_queued(&self) -> bool {
        !self.queue.is_empty()
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        env: &mut Env,
        ids: SessionIds,
        mode: SendMode,
        channel: &PersistenceChannel,
        consumer: &mut Consumer,
        findings: &mut Findings,
        f: Frame,
    ) {
        match self.tracker.record_event(&f.id) {
            Recorded::Duplicate => {
                env.metrics.add(m::DUPLICATES, 1);
                env.metrics.add(m::RECORDED, 1);
                env.log(EventKind::Call, ids.session, "duplicate", ids.server, Args::EMPTY.u("id", f.id));
                if !consumer.has(f.id) {
                    findings.push(
                        "no_silent_loss",
                        format!(
                            "{} judged event {} a duplicate, but the application never got it",
                            env.names.name(ids.session),
                            f.id
                        ),
                        vec![ids.session],
                    );
                }
            }
            Recorded::New => {
                env.log(
                    EventKind::Call,
                    ids.session,
                    "record",
                    ids.server,
                    Args::EMPTY.u("id", f.id).u("tracked", self.tracker.tracked() as u64),
                );
                let req = PersistenceRequest { session: ids.session, event_id: f.id, attempt: 0 };
                let outcome = channel.try_send(req);
                env.metrics.max(m::PEAK_DEPTH, channel.len() as u64);
                match (mode, outcome) {
                    (_, SendOutcome::Queued) => env.metrics.add(m::QUEUED, 1),
                    (SendMode::TrySend, SendOutcome::Full) => {
                        env.metrics.add(m::DROPPED_FULL, 1);
                        env.log(
                            EventKind::Note,
                            ids.session,
                            "try_send_full_dropped",
                            ids.session,
                            Args::EMPTY.u("id", f.id),
                        );
                    }
                    (SendMode::TrySend, SendOutcome::Closed) => {
                        env.metrics.add(m::DROPPED_CLOSED, 1);
                        env.log(
                            EventKind::Note,
                            ids.session,
                            "try_send_closed_dropped",
                            ids.session,
                            Args::EMPTY.u("id", f.id),
                        );
                    }
                    (SendMode::SendTimeout, SendOutcome::Closed) => {
                        env.metrics.add(m::CHANNEL_CLOSED, 1);
                        env.log(EventKind::Note, ids.session, "channel_closed", ids.session, Args::EMPTY.u("id", f.id));
                    }
                    (SendMode::SendTimeout, SendOutcome::Full) => {
                        let deadline = env.now + env.cfg.send_timeout;
                        self.blocked = Some(Blocked { frame: f, since: env.now, deadline });
                        env.log(
                            EventKind::State,
                            ids.session,
                            "send_blocked",
                            ids.session,
                            Args::EMPTY.u("id", f.id).u("until", deadline),
                        );
                        return;
                    }
                }
                env.metrics.add(m::RECORDED, 1);
                forward(env, ids, consumer, findings, f);
            }
        }
    }

    /// Try the awaiting send again; true if `record_event` returned.
    pub fn retry_send(
        &mut self,
        env: &mut Env,
        ids: SessionIds,
        channel: &PersistenceChannel,
        consumer: &mut Consumer,
        findings: &mut Findings,
    ) -> bool {
        let Some(b) = self.blocked else { return false };
        let req = PersistenceRequest { session: ids.session, event_id: b.frame.id, attempt: 0 };
        let what = match channel.try_send(req) {
            SendOutcome::Queued => {
                env.metrics.add(m::QUEUED, 1);
                env.metrics.max(m::PEAK_DEPTH, channel.len() as u64);
                "send_queued"
            }
            SendOutcome::Closed => {
                env.metrics.add(m::CHANNEL_CLOSED, 1);
                "channel_closed"
            }
            SendOutcome::Full if env.now >= b.deadline => {
                env.metrics.add(m::BACKPRESSURE_TIMEOUT, 1);
                "backpressure_timeout"
            }
            SendOutcome::Full => return false,
        };
        self.blocked = None;
        env.metrics.max(m::MAX_BLOCKED, env.now - b.since);
        env.metrics.add(m::RECORDED, 1);
        env.log(
            EventKind::State,
            ids.session,
            what,
            ids.session,
            Args::EMPTY.u("id", b.frame.id).u("waited", env.now - b.since),
        );
        forward(env, ids, consumer, findings, b.frame);
        true
    }

    /// A process restart: the stream breaks, an awaiting send is abandoned, and the
    /// tracker's window and last_event_id are gone. Returns the events lost from the
    /// stream and whether a send was abandoned.
    pub fn restart(&mut self) -> (u64, bool) {
        let lost = self.break_stream();
        let abandoned = self.blocked.take().is_some();
        self.tracker.reset();
        (lost, abandoned)
    }
}

/// `record_event` returned for a new event: the proxy forwards it to the application.
fn forward(env: &mut Env, ids: SessionIds, consumer: &mut Consumer, findings: &mut Findings, f: Frame) {
    env.metrics.add(m::DELIVERED, 1);
    env.metrics.max(m::MAX_LAG, env.now.saturating_sub(f.emitted));
    let first = consumer.deliver(f.id);
    env.log(EventKind::Call, ids.app, "deliver", ids.session, Args::EMPTY.u("id", f.id).b("first", first));
    if !first {
        findings.push(
            "no_duplicate_delivery",
            format!("{} got event {} a second time", env.names.name(ids.app), f.id),
            vec![ids.app, ids.session],
        );
    }
}
