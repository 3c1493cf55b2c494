//! The proxy side of a session: it reads the stream in order, runs each event through the
//! tracker's `record_event`, hands new ids to the persistence channel the way the variant
//! does, and forwards new events to the application once `record_event` returns.
//!
//! The three send paths, each as its seed writes it:
//!
//! | variant | path | a full channel | a closed channel | seed |
//! |---|---|---|---|---|
//! | `try_send_drop` | the synchronous callback's `try_send` | the request is dropped | dropped | seed 003, "Problem Statement": "forced to use try_send which drops messages when the channel is full"; the seeds show no code, so no counter, for this path |
//! | `send_timeout`, `naive_retry_worker`, `coalescing_worker` | `match timeout(100ms, tx.send(req)).await` | the stream task waits up to `send_timeout` ticks, then counts `PERSISTENCE_BACKPRESSURE_TIMEOUT` and drops the request | counts `PERSISTENCE_CHANNEL_CLOSED`, drops it | seed 001 Option 1 `record_event`; seed 003 step 4 |
//! | `caller_send` | `persistence_tx.send(PersistenceRequest {..}).await?` in the caller | the stream task waits as long as it takes: no drop, no timeout | `?` returns the error: the stream task ends, this event and every later one are never forwarded | seed 001 Option 2 |
//!
//! With an awaiting `send` the stream task is blocked inside `record_event` (or, for Option
//! 2, in its caller): the event waits, and every event read after it queues behind it, until
//! the send gets a slot, finds the receiver gone, or times out.
//!
//! A reconnect with `overlap = true` leaves the old stream's task running: it goes on
//! recording the events it has read (and those still arriving on the old connection)
//! through the same tracker while the new stream's task records the replay. The tape picks
//! how the two `record_event`s interleave, at the lock boundary the seed's code has: the
//! read-locked duplicate check is released before the write-locked push is taken, so both
//! checks can pass before either push.

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
    /// Seed 001's Option 2: `record_event` returns the new id and the caller awaits
    /// `persistence_tx.send(req).await?`: no timeout, and a closed channel ends the stream.
    SendAwait,
}

/// The six interleavings of two `record_event`s (old stream's A, new stream's B), each a
/// read-locked check then a write-locked push: `(task, is_push)` in order. The first is the
/// calm one: A's call completes before B's begins.
const INTERLEAVINGS: [[(u8, bool); 4]; 6] = [
    [(0, false), (0, true), (1, false), (1, true)],
    [(0, false), (1, false), (0, true), (1, true)],
    [(0, false), (1, false), (1, true), (0, true)],
    [(1, false), (0, false), (0, true), (1, true)],
    [(1, false), (0, false), (1, true), (0, true)],
    [(1, false), (1, true), (0, false), (0, true)],
];

/// An old stream whose task still runs after an overlapping reconnect.
#[derive(Debug, Default)]
pub struct OldStream {
    /// Its connection.
    pub conn: u32,
    next_seq: u32,
    reorder: BTreeMap<u32, Frame>,
    queue: VecDeque<Frame>,
    /// Its task's awaiting send, if any (it moved over with the task).
    pub blocked: Option<Blocked>,
}

/// Which stream's task: the current one, or the old one of an overlapping reconnect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Task {
    /// The old stream's task.
    Old,
    /// The current stream's task.
    New,
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
    /// Option 2: the stream task returned an error (`?` on a closed channel); nothing more
    /// of this stream is read until a reconnect.
    pub ended: bool,
    /// The old stream of an overlapping reconnect, still being recorded.
    pub old: Option<OldStream>,
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
            ended: false,
            old: None,
        }
    }

    /// Open the next connection; returns its number.
    pub fn open(&mut self) -> u32 {
        let conn = self.next_conn;
        self.next_conn += 1;
        self.conn = Some(conn);
        self.next_seq = 0;
        self.ended = false;
        conn
    }

    /// An overlapping reconnect: the current stream's task keeps running as the old one
    /// (an earlier old stream, if any, is dropped with what it had not recorded).
    pub fn keep_old(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.old = Some(OldStream {
                conn,
                next_seq: self.next_seq,
                reorder: std::mem::take(&mut self.reorder),
                queue: std::mem::take(&mut self.queue),
                blocked: self.blocked.take(),
            });
        }
    }

    /// The stream breaks: events read but not yet recorded are lost with it. Returns how
    /// many. An awaiting send is not interrupted (the task notices the break only after
    /// `record_event` returns).
    pub fn break_stream(&mut self) -> u64 {
        let mut lost = (self.reorder.len() + self.queue.len()) as u64;
        if let Some(old) = self.old.take() {
            lost += (old.reorder.len() + old.queue.len()) as u64;
        }
        self.reorder.clear();
        self.queue.clear();
        self.conn = None;
        lost
    }

    /// A frame arrived from the wire.
    pub fn receive(&mut self, env: &mut Env, f: Frame) {
        if let Some(old) = self.old.as_mut()
            && old.conn == f.conn
        {
            if f.seq < old.next_seq || old.reorder.contains_key(&f.seq) {
                return;
            }
            old.reorder.insert(f.seq, f);
            while let Some(f) = old.reorder.remove(&old.next_seq) {
                old.next_seq += 1;
                old.queue.push_back(f);
            }
            return;
        }
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
        loop {
            // Each task records its next event unless it waits in a send.
            let a = match self.old.as_mut() {
                Some(o) if o.blocked.is_none() => o.queue.pop_front(),
                _ => None,
            };
            let b = if self.blocked.is_none() { self.queue.pop_front() } else { None };
            match (a, b) {
                (Some(fa), Some(fb)) => self.record_pair(env, ids, mode, channel, consumer, findings, fa, fb),
                (Some(f), None) => self.record(env, ids, mode, channel, consumer, findings, f, Task::Old),
                (None, Some(f)) => self.record(env, ids, mode, channel, consumer, findings, f, Task::New),
                (None, None) => return,
            }
        }
    }

    /// The awaiting send of `task`.
    pub fn blocked_mut(&mut self, task: Task) -> Option<&mut Option<Blocked>> {
        match task {
            Task::New => Some(&mut self.blocked),
            Task::Old => self.old.as_mut().map(|o| &mut o.blocked),
        }
    }

    /// The old and the new stream's tasks each record an event through the one tracker, in
    /// an interleaving the tape picks.
    #[allow(clippy::too_many_arguments)]
    fn record_pair(
        &mut self,
        env: &mut Env,
        ids: SessionIds,
        mode: SendMode,
        channel: &PersistenceChannel,
        consumer: &mut Consumer,
        findings: &mut Findings,
        fa: Frame,
        fb: Frame,
    ) {
        let k = env.tape.choose("sse.overlap", INTERLEAVINGS.len() as u32) as usize;
        let frames = [fa, fb];
        let mut checked = [Recorded::New; 2];
        let mut done = Vec::with_capacity(2);
        for (task, push) in INTERLEAVINGS[k] {
            let f = frames[task as usize];
            if push {
                if checked[task as usize] == Recorded::New {
                    self.tracker.push(&f.id);
                }
                done.push(task as usize);
            } else {
                checked[task as usize] = self.tracker.check(&f.id);
            }
        }
        env.log(
            EventKind::Call,
            ids.session,
            "record_overlap",
            ids.server,
            Args::EMPTY.u("old_id", fa.id).u("new_id", fb.id).u("interleaving", k as u64),
        );
        for t in done {
            let task = if t == 0 { Task::Old } else { Task::New };
            self.after_record(env, ids, mode, channel, consumer, findings, frames[t], checked[t], task);
        }
    }

    /// Whether events wait for `record_event` (not counting a blocked one).
    pub fn has_queued(&self) -> bool {
        (self.blocked.is_none() && !self.queue.is_empty())
            || self.old.as_ref().is_some_and(|o| o.blocked.is_none() && !o.queue.is_empty())
    }

    /// Option 2's `?`: the stream task returns the send's error. Its stream is over.
    fn end_stream(&mut self, env: &mut Env, ids: SessionIds, id: u64, task: Task) {
        let lost = match task {
            Task::Old => self.old.take().map_or(0, |o| (o.reorder.len() + o.queue.len()) as u64),
            Task::New => {
                let lost = (self.reorder.len() + self.queue.len()) as u64;
                self.reorder.clear();
                self.queue.clear();
                self.conn = None;
                self.ended = true;
                lost
            }
        };
        env.metrics.add(m::STREAMS_ENDED, 1);
        env.metrics.add(m::LOST_ON_DISCONNECT, lost);
        env.log(
            EventKind::State,
            ids.session,
            "stream_ended_by_error",
            ids.server,
            Args::EMPTY.u("id", id).u("lost", lost),
        );
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
        task: Task,
    ) {
        let r = self.tracker.record_event(&f.id);
        self.after_record(env, ids, mode, channel, consumer, findings, f, r, task);
    }

    /// What follows the tracker's decision: the duplicate's count, or the new id's
    /// persistence hand-off and the event's delivery.
    #[allow(clippy::too_many_arguments)]
    fn after_record(
        &mut self,
        env: &mut Env,
        ids: SessionIds,
        mode: SendMode,
        channel: &PersistenceChannel,
        consumer: &mut Consumer,
        findings: &mut Findings,
        f: Frame,
        r: Recorded,
        task: Task,
    ) {
        match r {
            Recorded::Duplicate => {
                env.metrics.add(m::DUPLICATES, 1);
                env.metrics.add(m::RECORDED, 1);
                env.log(EventKind::Call, ids.session, "duplicate", ids.server, Args::EMPTY.u("id", f.id));
                // An id another task recorded and still holds in its awaiting send reaches the
                // application when that send returns (overlap only).
                let in_flight = self
                    .blocked
                    .iter()
                    .chain(self.old.as_ref().and_then(|o| o.blocked.as_ref()))
                    .any(|b| b.frame.id == f.id);
                if !consumer.has(f.id) && !in_flight {
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
                    (SendMode::SendAwait, SendOutcome::Closed) => {
                        self.end_stream(env, ids, f.id, task);
                        return;
                    }
                    (SendMode::SendTimeout | SendMode::SendAwait, SendOutcome::Full) => {
                        let deadline =
                            if mode == SendMode::SendAwait { u64::MAX } else { env.now + env.cfg.send_timeout };
                        if let Some(slot) = self.blocked_mut(task) {
                            *slot = Some(Blocked { frame: f, since: env.now, deadline });
                        }
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
        task: Task,
    ) -> bool {
        let Some(b) = self.blocked_mut(task).and_then(|s| *s) else { return false };
        let req = PersistenceRequest { session: ids.session, event_id: b.frame.id, attempt: 0 };
        let what = match channel.try_send(req) {
            SendOutcome::Queued => {
                env.metrics.add(m::QUEUED, 1);
                env.metrics.max(m::PEAK_DEPTH, channel.len() as u64);
                "send_queued"
            }
            SendOutcome::Closed if b.deadline == u64::MAX => {
                // Option 2: `send(..).await?` returns the error and the stream task ends.
                if let Some(slot) = self.blocked_mut(task) {
                    *slot = None;
                }
                env.metrics.max(m::MAX_BLOCKED, env.now - b.since);
                self.end_stream(env, ids, b.frame.id, task);
                return true;
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
        if let Some(slot) = self.blocked_mut(task) {
            *slot = None;
        }
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
        let old_blocked = self.old.as_ref().is_some_and(|o| o.blocked.is_some());
        let lost = self.break_stream();
        self.ended = false;
        let abandoned = self.blocked.take().is_some() || old_blocked;
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
