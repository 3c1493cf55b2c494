//! What travels: signaling messages on the wire, and the model's timers.

use crate::engine::Id;
use crate::engine::trace::{Args, Describe};

/// Kinds of signaling message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SigKind {
    /// SDP offer, local -> remote.
    Offer,
    /// Local ICE candidate, local -> remote.
    Candidate,
    /// SDP answer, remote -> local.
    Answer,
    /// Remote ICE candidate, remote -> local.
    RemoteCandidate,
}

impl SigKind {
    /// The name used in traces.
    pub fn name(self) -> &'static str {
        match self {
            SigKind::Offer => "offer",
            SigKind::Candidate => "ice_candidate",
            SigKind::Answer => "answer",
            SigKind::RemoteCandidate => "remote_candidate",
        }
    }
}

/// A signaling message on one hop (client -> server -> remote, or back).
#[derive(Clone, Debug)]
pub struct Signal {
    /// Sender of this hop.
    pub from: Id,
    /// Receiver of this hop.
    pub to: Id,
    /// What it is.
    pub kind: SigKind,
    /// The remote peer it is addressed to (`target` of `_send`) or comes from.
    pub peer: Id,
    /// The local peer connection the negotiation belongs to.
    pub pc: Id,
    /// The client that carries the negotiation (replies go back through it).
    pub via: Id,
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
        Args::EMPTY.id("peer", self.peer).id("pc", self.pc).id("via", self.via)
    }
}

/// The model's timers: async continuations and platform events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Wake {
    /// An awaited future completed: resume async operation `op`.
    Op(usize),
    /// The platform gathered an ICE candidate for `pc`.
    Ice(Id),
    /// `pc.close()` completed; resume `op` if one awaits it.
    CloseDone(Id, Option<usize>),
    /// The client's socket finished closing (`onDone` -> `_isConnected = false`).
    SocketClosed(Id),
    /// An ICE restart after a network change.
    IceRestart(Id),
}
