//! A session's SSE server: emits events with increasing ids (1, 2, ...), in bursts at
//! `[sse] rate` per tick; on a connect with Last-Event-ID it replays everything after that
//! id, and, as a fault the tape picks before heal, up to `replay_older` events before it.
//! A connect without Last-Event-ID gets only events emitted from then on (a new stream).

use super::env::Env;
use super::messages::{Connect, Frame};
use super::metrics as m;
use crate::engine::ids::Id;
use crate::engine::trace::{Args, EventKind};
use bevy_ecs::prelude::*;

/// The server's state.
#[derive(Component, Debug, Default)]
pub struct Server {
    /// Ids emitted so far are `1..=log_len`.
    pub log_len: u64,
    /// The tick each id was first emitted (index `id - 1`).
    emitted_at: Vec<u64>,
    /// Events of the current bursts still to emit.
    pub to_emit: u64,
    /// The connection it streams to.
    pub connected: Option<u32>,
    /// Connects for connections below this number are stale (their stream broke before
    /// the server saw them) and are ignored.
    pub dead_below: u32,
    next_seq: u32,
}

impl Server {
    /// The tick `id` was first emitted.
    pub fn emitted_at(&self, id: u64) -> u64 {
        id.checked_sub(1).and_then(|i| self.emitted_at.get(i as usize)).copied().unwrap_or(0)
    }

    /// Open connection `conn` at once (the first stream of a session).
    pub fn open(&mut self, conn: u32) {
        self.connected = Some(conn);
        self.next_seq = 0;
    }

    /// The stream broke: stop sending and ignore connects of connections before `next_conn`.
    pub fn break_stream(&mut self, next_conn: u32) {
        self.connected = None;
        self.dead_below = self.dead_below.max(next_conn);
    }

    fn frame(&mut self, server: Id, session: Id, conn: u32, id: u64) -> Frame {
        let seq = self.next_seq;
        self.next_seq += 1;
        Frame { server, session, conn, seq, id, emitted: self.emitted_at(id) }
    }

    /// Handle a connect: switch to its connection and replay after Last-Event-ID.
    pub fn on_connect(&mut self, env: &mut Env, c: &Connect, out: &mut Vec<Frame>) {
        if c.conn < self.dead_below || self.connected.is_some_and(|cur| cur >= c.conn) {
            env.log(EventKind::Note, c.server, "stale_connect", c.session, Args::EMPTY.u("conn", u64::from(c.conn)));
            return;
        }
        self.open(c.conn);
        let Some(last) = c.last_event_id else {
            env.log(EventKind::State, c.server, "streaming", c.session, Args::EMPTY.u("conn", u64::from(c.conn)));
            return;
        };
        let older = if env.faulty { env.tape.range("server.replay_older", 0, env.cfg.replay_older) } else { 0 };
        let from = (last + 1).saturating_sub(older).max(1);
        env.log(
            EventKind::State,
            c.server,
            "replay",
            c.session,
            Args::EMPTY.u("conn", u64::from(c.conn)).u("from", from).u("to", self.log_len).u("older", older),
        );
        for id in from..=self.log_len {
            out.push(self.frame(c.server, c.session, c.conn, id));
            env.metrics.add(m::FRAMES, 1);
            env.metrics.add(if id <= last { m::REPLAYED_OLDER } else { m::REPLAYED }, 1);
        }
    }

    /// Emit this tick's share of the bursts, sending each on the open connection.
    pub fn emit(&mut self, env: &mut Env, server: Id, session: Id, out: &mut Vec<Frame>) {
        let n = self.to_emit.min(env.cfg.rate);
        for _ in 0..n {
            self.log_len += 1;
            self.emitted_at.push(env.now);
            env.metrics.add(m::EMITTED, 1);
            if let Some(conn) = self.connected {
                out.push(self.frame(server, session, conn, self.log_len));
                env.metrics.add(m::FRAMES, 1);
            }
        }
        self.to_emit -= n;
    }
}
