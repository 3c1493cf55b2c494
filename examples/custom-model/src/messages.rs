//! Events: the app's calls (scripted steps), frames on the wire between sockets and the
//! server, and the reconnect's backoff timer.

use racelab::prelude::*;

/// A scripted step: the app calls one of the client's methods.
#[derive(Clone, Debug)]
pub struct Action {
    /// Who calls (the app).
    pub app: Id,
    /// Whose method.
    pub client: Id,
    /// Which method.
    pub call: Call,
}

/// The client's methods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Call {
    /// `connect()`.
    Connect,
    /// `reconnect()`.
    Reconnect,
    /// `send(message)`.
    Send(Id),
}

impl Describe for Action {
    fn label(&self) -> &'static str {
        match self.call {
            Call::Connect => "connect",
            Call::Reconnect => "reconnect",
            Call::Send(_) => "send",
        }
    }
    fn actor(&self) -> Id {
        self.app
    }
    fn target(&self) -> Id {
        self.client
    }
    fn args(&self) -> Args {
        match self.call {
            Call::Send(message) => Args::EMPTY.id("message", message),
            _ => Args::EMPTY,
        }
    }
}

/// A WebSocket frame between a socket and the server. Each hop is one envelope on the
/// engine's wire, so its delay, duplication and order come from the tape.
#[derive(Clone, Debug)]
pub struct Frame {
    /// Sender (a socket or the server).
    pub from: Id,
    /// Receiver.
    pub to: Id,
    /// What it carries.
    pub kind: FrameKind,
}

/// The frames of the two handshakes, and data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameKind {
    /// Socket -> server: the opening handshake's request.
    Open,
    /// Server -> socket: the handshake's answer; the socket opens.
    Opened,
    /// Socket -> server: an application message.
    Data(Id),
    /// Socket -> server: the closing handshake's Close frame.
    Close,
    /// Server -> socket: the server's Close frame; the socket's close completes.
    Closed,
}

impl Describe for Frame {
    fn label(&self) -> &'static str {
        match self.kind {
            FrameKind::Open => "open",
            FrameKind::Opened => "opened",
            FrameKind::Data(_) => "data",
            FrameKind::Close => "close",
            FrameKind::Closed => "closed",
        }
    }
    fn actor(&self) -> Id {
        self.from
    }
    fn target(&self) -> Id {
        self.to
    }
    fn args(&self) -> Args {
        match self.kind {
            FrameKind::Data(message) => Args::EMPTY.id("message", message),
            _ => Args::EMPTY,
        }
    }
}

/// The `setTimeout(() => this.connect(), backoff)` that `reconnect()` arms.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    /// The client to connect.
    pub client: Id,
}
