//! What travels the wire between a session's proxy and its SSE server.
//!
//! The stream is TCP: frames carry a per-connection sequence number and the proxy reads
//! them in order whatever the wire's delays (a wire duplicate is discarded, as TCP does).
//! Duplicate *events* come only from the server's replay, never from the transport.

use crate::engine::ids::Id;
use crate::engine::trace::{Args, Describe};

/// One SSE event on one connection, server to proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The server sending it.
    pub server: Id,
    /// The session (proxy) receiving it.
    pub session: Id,
    /// The connection it belongs to.
    pub conn: u32,
    /// Its position on that connection.
    pub seq: u32,
    /// The event id.
    pub id: u64,
    /// The tick the server first emitted this event (for delivery lag).
    pub emitted: u64,
}

impl Describe for Frame {
    fn label(&self) -> &'static str {
        "event"
    }
    fn actor(&self) -> Id {
        self.server
    }
    fn target(&self) -> Id {
        self.session
    }
    fn args(&self) -> Args {
        Args::EMPTY.u("id", self.id).u("conn", u64::from(self.conn)).u("seq", u64::from(self.seq))
    }
}

/// A reconnect request, proxy to server, carrying `Last-Event-ID`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Connect {
    /// The session asking.
    pub session: Id,
    /// Its server.
    pub server: Id,
    /// The new connection's number.
    pub conn: u32,
    /// `Last-Event-ID`, if the proxy has one.
    pub last_event_id: Option<u64>,
}

impl Describe for Connect {
    fn label(&self) -> &'static str {
        "connect"
    }
    fn actor(&self) -> Id {
        self.session
    }
    fn target(&self) -> Id {
        self.server
    }
    fn args(&self) -> Args {
        let a = Args::EMPTY.u("conn", u64::from(self.conn));
        match self.last_event_id {
            Some(id) => a.u("last_event_id", id),
            None => a.s("last_event_id", "none"),
        }
    }
}
