//! The far side: signaling servers (packages/server-vps/src/client/handler.ts at
//! `4af3c998`) and remote peers, as entities.
//!
//! A server knows a pairing code once the client's `register` arrived and forgets it at the
//! client's close frame. It forwards `offer` and `ice_candidate` to the target code if that
//! is registered with it, else answers `error: Peer not found` (handler.ts:738-746); a
//! `pair_request` for a code it does not know gets `pair_error` (:535-544). Servers are not
//! federated for signaling: a remote peer is reachable only through the servers it is
//! registered with (`[signaling] peers_on`).
//!
//! A remote peer accepts every pairing request, answers an offer, and answers each local
//! candidate of the negotiation it is in with one of its own candidates (which is how the
//! model lets ICE connect: both sides hold a candidate of the other). Its replies go to the
//! pairing code and through the server of the offer it answered.

use super::signal::{SigKind, Signal};
use crate::engine::trace::{Args, EventKind};
use crate::engine::{Id, SimWorld};
use bevy_ecs::prelude::*;

/// A signaling server.
#[derive(Component, Debug, Clone)]
pub struct Server {
    /// Its stable id ("server:A").
    pub id: Id,
    /// Client pairing codes registered, in registration order.
    pub clients: Vec<Id>,
    /// Remote peers registered with it.
    pub peers: Vec<Id>,
}

/// A remote peer.
#[derive(Component, Debug, Clone)]
pub struct Remote {
    /// Its stable id ("peer:P1").
    pub id: Id,
    /// The local connection it negotiates with (the last offer it answered).
    pub pc: Option<Id>,
    /// The pairing code and server of that offer: where its replies go.
    pub partner: (Id, Id),
    /// Candidates that arrived before their offer, as `(pc, server)`: held until the offer
    /// sets the remote description, as WebRTC peers buffer them.
    pub early: Vec<(Id, Id)>,
}

/// Hand an arrived message to the server or remote peer it is addressed to.
pub fn receive(world: &mut World, msg: Signal) {
    let Some(e) = world.entity_of(msg.to) else { return };
    if world.get::<Server>(e).is_some() {
        server(world, e, msg);
    } else if world.get::<Remote>(e).is_some() {
        remote(world, e, msg);
    }
}

fn server(world: &mut World, e: Entity, msg: Signal) {
    let me = msg.to;
    // Read what the message needs, not a clone of the server (two vectors per message).
    let Some(s) = world.get::<Server>(e) else { return };
    let (registered, knows_peer) = (s.clients.contains(&msg.code), s.peers.contains(&msg.peer));
    let reply = |kind: SigKind| Signal { from: me, to: msg.from, kind, ..msg };
    match msg.kind {
        SigKind::Register => {
            if let Some(mut s) = world.get_mut::<Server>(e)
                && !s.clients.contains(&msg.code)
            {
                s.clients.push(msg.code);
            }
        }
        SigKind::Close => {
            if let Some(mut s) = world.get_mut::<Server>(e) {
                s.clients.retain(|c| *c != msg.code);
            }
        }
        SigKind::PairRequest | SigKind::Offer | SigKind::Candidate => {
            if registered && knows_peer {
                world.send(Signal { from: me, to: msg.peer, ..msg });
            } else {
                world.count("signaling.peer_not_found", 1);
                let kind = if msg.kind == SigKind::PairRequest { SigKind::PairError } else { SigKind::PeerNotFound };
                world.send(reply(kind));
            }
        }
        SigKind::PairResponse | SigKind::Answer | SigKind::RemoteCandidate => {
            if registered {
                let kind = if msg.kind == SigKind::PairResponse { SigKind::PairMatched } else { msg.kind };
                world.send(Signal { from: me, to: msg.code, kind, ..msg });
            } else {
                world.count("signaling.relay_dropped", 1);
                world.trace_event(
                    EventKind::Note,
                    me,
                    "relay_dropped",
                    msg.code,
                    Args::EMPTY.s("kind", msg.kind.name()),
                );
            }
        }
        SigKind::PairMatched | SigKind::PairError | SigKind::PeerNotFound => {}
    }
}

fn remote(world: &mut World, e: Entity, msg: Signal) {
    let me = msg.to;
    let server = msg.from;
    let Some(&Remote { pc: r_pc, partner: r_partner, .. }) = world.get::<Remote>(e) else { return };
    let send = |world: &mut World, kind: SigKind, pc: Id, (code, server): (Id, Id)| {
        world.send(Signal { from: me, to: server, kind, peer: me, code, pc });
    };
    match msg.kind {
        SigKind::PairRequest => send(world, SigKind::PairResponse, Id::NONE, (msg.code, server)),
        SigKind::Offer => {
            let partner = (msg.code, server);
            let mut early = Vec::new();
            if let Some(mut r) = world.get_mut::<Remote>(e) {
                r.pc = Some(msg.pc);
                r.partner = partner;
                let held = std::mem::take(&mut r.early);
                let (mine, rest): (Vec<_>, Vec<_>) = held.into_iter().partition(|(pc, _)| *pc == msg.pc);
                r.early = rest;
                early = mine;
            }
            send(world, SigKind::Answer, msg.pc, partner);
            for _ in early {
                send(world, SigKind::RemoteCandidate, msg.pc, partner);
            }
        }
        SigKind::Candidate => {
            if r_pc == Some(msg.pc) {
                send(world, SigKind::RemoteCandidate, msg.pc, r_partner);
            } else if !is_older(world, r_pc, msg.pc) {
                // Its offer is still on the way: hold the candidate until it arrives.
                if let Some(mut r) = world.get_mut::<Remote>(e) {
                    r.early.push((msg.pc, server));
                }
            } else {
                // A candidate of an earlier negotiation: addIceCandidate rejects it.
                world.count("signaling.stale_candidates", 1);
            }
        }
        _ => {}
    }
}

/// Whether `pc` is an older connection than `current` (the same peer reconnected since).
fn is_older(world: &World, current: Option<Id>, pc: Id) -> bool {
    let Some(current) = current else { return false };
    let names = &world.engine().names;
    generation(names.name(pc)) < generation(names.name(current))
}

fn generation(name: &str) -> u64 {
    name.rsplit('#').next().and_then(|n| n.parse().ok()).unwrap_or(0)
}
