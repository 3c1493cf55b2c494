//! The persistence worker: takes requests off the channel and writes them to the store,
//! one write at a time (it awaits each).
//!
//! Three designs, one per family of variants:
//! - [`WorkerKind::Plain`], the worker before E.1: one request per receive, one write; a
//!   failed write is logged and given up.
//! - [`WorkerKind::NaiveRetry`]: the same, but a failed request is kept and written again
//!   after an exponential backoff, while newer requests are written in the meantime, so an
//!   older id's retry can land after a newer id's write.
//! - [`WorkerKind::Coalescing`], the seed's E.1 plan: `recv_many` up to `batch` requests,
//!   coalesce them per session to the newest id, write each session once, keep failed
//!   sessions in a `BinaryHeap` by next retry tick with exponential backoff, and never
//!   write an id that is not newer than the one it already wrote.

use super::channel::{PersistenceChannel, PersistenceRequest};
use super::env::Env;
use super::metrics as m;
use super::store::{Store, WriteDone};
use crate::engine::ids::Id;
use crate::engine::trace::{Args, EventKind};
use bevy_ecs::prelude::*;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};

/// Which worker design runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkerKind {
    /// One request, one write, no retry.
    Plain,
    /// Retries failed requests after a backoff, in no particular relation to newer ones.
    NaiveRetry,
    /// E.1: batch, coalesce per session, retry heap, newer-only writes.
    Coalescing,
}

/// The worker's state in a run.
#[derive(Resource, Debug)]
pub struct Worker {
    kind: WorkerKind,
    id: Id,
    closed: bool,
    seq: u64,
    /// NaiveRetry: failed requests with their retry tick, in the order they failed.
    retries: Vec<(u64, u64, PersistenceRequest)>,
    /// E.1: sessions to write in the current round, in the order they came.
    round: VecDeque<Id>,
    /// E.1: newest id requested per session.
    latest: BTreeMap<Id, u64>,
    /// E.1: newest id written per session.
    written: BTreeMap<Id, u64>,
    /// E.1: failures in a row per session.
    attempts: BTreeMap<Id, u32>,
    /// E.1: the retry tick each failed session is waiting for.
    retry_at: BTreeMap<Id, u64>,
    /// E.1: `(retry tick, order, session)`, earliest first.
    heap: BinaryHeap<Reverse<(u64, u64, Id)>>,
}

impl Worker {
    /// A fresh worker of `kind`.
    pub fn new(kind: WorkerKind, id: Id) -> Self {
        Worker {
            kind,
            id,
            closed: false,
            seq: 0,
            retries: Vec::new(),
            round: VecDeque::new(),
            latest: BTreeMap::new(),
            written: BTreeMap::new(),
            attempts: BTreeMap::new(),
            retry_at: BTreeMap::new(),
            heap: BinaryHeap::new(),
        }
    }

    /// Its design.
    pub fn kind(&self) -> WorkerKind {
        self.kind
    }

    /// The worker stops (`close_worker`): its receiver is dropped and its memory with it.
    pub fn close(&mut self) {
        self.closed = true;
        self.retries.clear();
        self.round.clear();
        self.heap.clear();
        self.retry_at.clear();
    }

    /// Whether it stopped.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// One tick of the worker, after the store completed what was due.
    pub fn step(&mut self, env: &mut Env, channel: &PersistenceChannel, store: &mut Store) {
        let done = store.take_done();
        if self.closed {
            return;
        }
        if let Some(done) = done {
            self.finish(env, done);
        }
        if store.busy() {
            return;
        }
        match self.kind {
            WorkerKind::Plain => {
                if let Some(req) = self.recv(env, channel) {
                    self.begin(env, store, req.session, req.event_id, req.attempt);
                }
            }
            WorkerKind::NaiveRetry => {
                let due = self
                    .retries
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| r.0 <= env.now)
                    .min_by_key(|(_, r)| (r.0, r.1))
                    .map(|(i, _)| i);
                let req = match due {
                    Some(i) => Some(self.retries.remove(i).2),
                    None => self.recv(env, channel),
                };
                if let Some(req) = req {
                    self.begin(env, store, req.session, req.event_id, req.attempt);
                }
            }
            WorkerKind::Coalescing => self.step_coalescing(env, channel, store),
        }
    }

    fn recv(&mut self, env: &mut Env, channel: &PersistenceChannel) -> Option<PersistenceRequest> {
        let req = channel.try_recv()?;
        env.metrics.add(m::WORKER_RECEIVED, 1);
        env.log(
            EventKind::Call,
            self.id,
            "recv",
            req.session,
            Args::EMPTY.u("id", req.event_id).u("depth", channel.len() as u64),
        );
        Some(req)
    }

    fn begin(&mut self, env: &mut Env, store: &mut Store, session: Id, event_id: u64, attempt: u32) {
        let (lo, hi) = env.cfg.store_latency;
        let latency = if env.faulty { env.tape.range("store.latency", lo, hi) } else { lo };
        let fails = env.faulty && env.tape.chance("store.fail", env.cfg.store_fail);
        let w = store.begin(env.now, session, event_id, attempt, latency, fails);
        env.log(
            EventKind::Call,
            self.id,
            "write",
            session,
            Args::EMPTY.u("id", event_id).u("attempt", u64::from(attempt)).u("due", w.due),
        );
    }

    fn finish(&mut self, env: &mut Env, done: WriteDone) {
        let w = done.write;
        if done.ok {
            if self.kind == WorkerKind::Coalescing {
                let e = self.written.entry(w.session).or_insert(0);
                *e = (*e).max(w.event_id);
                self.attempts.remove(&w.session);
                self.retry_at.remove(&w.session);
            }
            return;
        }
        match self.kind {
            WorkerKind::Plain => {
                env.metrics.add(m::GAVE_UP, 1);
                env.log(EventKind::Note, self.id, "write_failed_gave_up", w.session, Args::EMPTY.u("id", w.event_id));
            }
            WorkerKind::NaiveRetry => {
                let attempt = w.attempt + 1;
                let due = env.now + env.cfg.backoff(attempt);
                env.metrics.add(m::RETRIES, 1);
                env.log(
                    EventKind::Note,
                    self.id,
                    "write_failed_retry",
                    w.session,
                    Args::EMPTY.u("id", w.event_id).u("attempt", u64::from(attempt)).u("at", due),
                );
                self.seq += 1;
                self.retries.push((
                    due,
                    self.seq,
                    PersistenceRequest { session: w.session, event_id: w.event_id, attempt },
                ));
            }
            WorkerKind::Coalescing => {
                let attempt = {
                    let a = self.attempts.entry(w.session).or_insert(0);
                    *a += 1;
                    *a
                };
                let due = env.now + env.cfg.backoff(attempt);
                env.metrics.add(m::RETRIES, 1);
                env.log(
                    EventKind::Note,
                    self.id,
                    "write_failed_retry",
                    w.session,
                    Args::EMPTY.u("id", w.event_id).u("attempt", u64::from(attempt)).u("at", due),
                );
                // The failed id stays wanted unless a newer one already is.
                let l = self.latest.entry(w.session).or_insert(0);
                *l = (*l).max(w.event_id);
                self.retry_at.insert(w.session, due);
                self.seq += 1;
                self.heap.push(Reverse((due, self.seq, w.session)));
            }
        }
    }

    fn step_coalescing(&mut self, env: &mut Env, channel: &PersistenceChannel, store: &mut Store) {
        loop {
            if self.round.is_empty() {
                self.gather(env, channel);
                if self.round.is_empty() {
                    return;
                }
            }
            let Some(session) = self.round.pop_front() else { return };
            let want = self.latest.get(&session).copied().unwrap_or(0);
            let have = self.written.get(&session).copied().unwrap_or(0);
            if want > have {
                let attempt = self.attempts.get(&session).copied().unwrap_or(0);
                self.begin(env, store, session, want, attempt);
                return;
            }
        }
    }

    /// Start a round: `recv_many` up to `batch`, coalesced per session, plus the sessions
    /// whose retry is due.
    fn gather(&mut self, env: &mut Env, channel: &PersistenceChannel) {
        let mut got = 0;
        while got < env.cfg.batch {
            let Some(req) = channel.try_recv() else { break };
            got += 1;
            env.metrics.add(m::WORKER_RECEIVED, 1);
            let have = self.written.get(&req.session).copied().unwrap_or(0);
            let latest = self.latest.entry(req.session).or_insert(0);
            let newer = req.event_id > *latest;
            *latest = (*latest).max(req.event_id);
            let queued = self.round.contains(&req.session);
            if queued || req.event_id <= have || !newer {
                // No write of its own: a newer id of the session is in this round already,
                // or the worker wrote something at least as new.
                env.metrics.add(m::COALESCED, 1);
                env.log(EventKind::Note, self.id, "coalesced", req.session, Args::EMPTY.u("id", req.event_id));
            } else {
                env.log(
                    EventKind::Call,
                    self.id,
                    "recv",
                    req.session,
                    Args::EMPTY.u("id", req.event_id).u("depth", channel.len() as u64),
                );
            }
            if !queued && req.event_id > have {
                self.round.push_back(req.session);
            }
        }
        while let Some(&Reverse((due, _, session))) = self.heap.peek() {
            if due > env.now {
                break;
            }
            self.heap.pop();
            if self.retry_at.get(&session) == Some(&due) {
                self.retry_at.remove(&session);
                if !self.round.contains(&session) {
                    self.round.push_back(session);
                }
            }
        }
    }

    /// The next tick the worker needs, given the channel and the store.
    pub fn next_tick(&self, now: u64, channel: &PersistenceChannel, store: &Store) -> Option<u64> {
        if self.closed || store.busy() {
            return None;
        }
        let mut next = None::<u64>;
        let mut at = |t: u64| next = Some(next.map_or(t, |n| n.min(t)));
        if !channel.is_empty() || !self.round.is_empty() {
            at(now + 1);
        }
        for r in &self.retries {
            at(r.0.max(now + 1));
        }
        if let Some(Reverse((due, _, _))) = self.heap.peek() {
            at((*due).max(now + 1));
        }
        next
    }
}
