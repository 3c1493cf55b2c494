//! The signaling model's entities: signaling clients, peer connections, remote peers, servers.

use crate::engine::Id;
use bevy_ecs::prelude::*;

/// Connection state of a `SignalingClient` (its `isConnected` is `state == Connected`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientState {
    /// `connect()` is awaiting the socket.
    Connecting,
    /// The socket is open.
    Connected,
    /// `_isConnected = false`: disconnected, or its socket closed.
    Disconnected,
}

/// One `SignalingClient`: one per enable, numbered by generation ("client#2").
#[derive(Component, Debug, Clone)]
pub struct Client {
    /// Stable id.
    pub id: Id,
    /// The server it talks to.
    pub server: Id,
    /// Socket state.
    pub state: ClientState,
    /// `dispose()` was called on it: its controllers are closed, it must not be used.
    pub disposed: bool,
    /// The manager's `_signalingSubscription` listens to this client's messages.
    pub listened: bool,
}

/// WebRTC `RTCPeerConnectionState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PcState {
    /// Created, negotiation not started.
    New,
    /// Negotiating / ICE checking.
    Connecting,
    /// Connected.
    Connected,
    /// A transport was lost.
    Disconnected,
    /// A transport failed.
    Failed,
    /// `close()` completed.
    Closed,
}

impl PcState {
    /// The name used in traces.
    pub fn name(self) -> &'static str {
        match self {
            PcState::New => "new",
            PcState::Connecting => "connecting",
            PcState::Connected => "connected",
            PcState::Disconnected => "disconnected",
            PcState::Failed => "failed",
            PcState::Closed => "closed",
        }
    }

    /// Whether WebRTC allows going from `self` to `to`.
    pub fn can_go(self, to: PcState) -> bool {
        use PcState::*;
        matches!(
            (self, to),
            (New, Connecting | Closed)
                | (Connecting, Connected | Disconnected | Failed | Closed)
                | (Connected, Disconnected | Failed | Closed)
                | (Disconnected, Connecting | Connected | Failed | Closed)
                | (Failed, Connecting | Closed)
        )
    }
}

/// One local `RTCPeerConnection` ("pc:P1#2": the second connection to peer P1).
#[derive(Component, Debug, Clone)]
pub struct Pc {
    /// Stable id.
    pub id: Id,
    /// The remote peer it connects to.
    pub peer: Id,
    /// The signaling client current when the connection started: its own session.
    pub session: Option<Id>,
    /// Connection state.
    pub state: PcState,
    /// `close()` was called and has not completed: the platform may still deliver events.
    pub closing: bool,
    /// The remote answer was applied.
    pub answered: bool,
    /// A remote candidate was applied.
    pub remote_candidate: bool,
    /// ICE candidates still to be gathered in this round.
    pub gathering: u32,
    /// `session_bound`: the session still owns this connection's callback.
    pub attached: bool,
    /// `fail_peer` came before the transport existed: it fails as soon as it starts connecting.
    pub fail_pending: bool,
}

impl Pc {
    /// Whether the connection still counts as live (not closed, not closing).
    pub fn live(&self) -> bool {
        self.state != PcState::Closed && !self.closing
    }

    /// Whether a connect is still pending on it (the `connect_settles` monitor).
    pub fn pending(&self) -> bool {
        self.live() && matches!(self.state, PcState::New | PcState::Connecting | PcState::Disconnected)
    }
}

/// A remote peer, reachable through any server.
#[derive(Component, Debug, Clone)]
pub struct Remote {
    /// Stable id ("peer:P1").
    pub id: Id,
    /// The local connection it is negotiating with (the last offer it answered).
    pub pc: Option<Id>,
    /// The client to reply through.
    pub reply_via: Id,
    /// Candidates that arrived before their offer, as `(pc, server, via)`: held until the
    /// offer sets the remote description, as WebRTC peers buffer them.
    pub early: Vec<(Id, Id, Id)>,
}

/// A signaling server: relays offers, answers and candidates.
#[derive(Component, Debug, Clone)]
pub struct Server {
    /// Stable id ("server:A").
    pub id: Id,
}
