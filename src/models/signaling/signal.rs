//! What travels: WebSocket messages between signaling clients, servers and remote peers,
//! and the model's timers.
//!
//! The message kinds are the ones `SignalingClient` and the VPS server exchange at
//! `4af3c998` (`packages/server-vps/src/client/handler.ts`): `register`, `pair_request`,
//! `pair_incoming`, `pair_response`, `pair_matched`, `pair_error`, `offer`, `answer`,
//! `ice_candidate` in both directions, and the `error` a server answers when the target of a
//! forwarded message is not registered with it. A socket's close frame is `close`.

use crate::engine::Id;
use crate::engine::trace::{Args, Describe};

/// Kinds of WebSocket message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SigKind {
    /// Client -> server, sent by `connect()` once the socket is ready (signaling_client.dart:73).
    Register,
    /// Client -> server: the socket's close frame (`sink.close()`, signaling_client.dart:106).
    Close,
    /// Client -> server -> remote: `requestPairing(target)` (signaling_client.dart:138),
    /// forwarded as `pair_incoming`.
    PairRequest,
    /// Remote -> server: the remote peer accepts the pairing.
    PairResponse,
    /// Server -> client: `pair_matched`, the requester is the initiator (handler.ts:665).
    PairMatched,
    /// Server -> client: `pair_error`, the target is not registered with this server (handler.ts:538).
    PairError,
    /// SDP offer, local -> remote.
    Offer,
    /// Local ICE candidate, local -> remote.
    Candidate,
    /// SDP answer, remote -> local.
    Answer,
    /// Remote ICE candidate, remote -> local.
    RemoteCandidate,
    /// Server -> sender: `error`, "Peer not found" (handler.ts:745).
    PeerNotFound,
}

impl SigKind {
    /// The name used in traces.
    pub fn name(self) -> &'static str {
        match self {
            SigKind::Register => "register",
            SigKind::Close => "close",
            SigKind::PairRequest => "pair_request",
            SigKind::PairResponse => "pair_response",
            SigKind::PairMatched => "pair_matched",
            SigKind::PairError => "pair_error",
            SigKind::Offer => "offer",
            SigKind::Candidate => "ice_candidate",
            SigKind::Answer => "answer",
            SigKind::RemoteCandidate => "remote_candidate",
            SigKind::PeerNotFound => "peer_not_found",
        }
    }
}

/// A message on one hop (client -> server, server -> remote, or back).
#[derive(Clone, Copy, Debug)]
pub struct Signal {
    /// Sender of this hop.
    pub from: Id,
    /// Receiver of this hop.
    pub to: Id,
    /// What it is.
    pub kind: SigKind,
    /// The remote peer it concerns (a `target` or a `from` pairing code).
    pub peer: Id,
    /// The local signaling client it concerns: its pairing code is its id.
    pub code: Id,
    /// The local peer connection the negotiation belongs to (an SDP's and a candidate's
    /// ufrag name their negotiation; [`Id::NONE`] when there is none).
    pub pc: Id,
}

impl Describe for Signal {
    fn label(&self) -> &'static str {
        self.kind.name()
    }
    fn actor(&self) -> Id {
        self.from
    }
    fn target(&self) -> Id {
        self.to
    }
    fn args(&self) -> Args {
        Args::EMPTY.id("peer", self.peer).id("code", self.code).id("pc", self.pc)
    }
}

/// The model's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wake {
    /// A Dart task's awaited future completed: poll the task again.
    Resume(u32),
    /// The platform finished the call at the head of this connection's operations chain.
    Chain(u16),
    /// The platform gathered an ICE candidate for this connection.
    Ice(u16),
}
