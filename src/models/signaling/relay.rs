//! The far side: signaling servers relay by target, remote peers answer offers and reply to
//! candidates of the negotiation they are in.

use super::components::{Client, ClientState, Remote, Server};
use super::cx::Cx;
use super::invariants::Facts;
use super::signal::{SigKind, Signal};
use super::webrtc;
use crate::engine::trace::{Args, EventKind};
use crate::engine::{Id, SimWorld};

/// Hand an arrived message to whoever it is addressed to.
pub fn receive(cx: &mut Cx, msg: Signal) {
    let Some(e) = cx.world.entity_of(msg.to) else {
        return;
    };
    if cx.world.get::<Server>(e).is_some() {
        server(cx, msg);
    } else if cx.world.get::<Remote>(e).is_some() {
        remote(cx, msg);
    } else if cx.world.get::<Client>(e).is_some() {
        webrtc::client_receives(cx, msg.to, &msg);
    }
}

fn server(cx: &mut Cx, msg: Signal) {
    let server = msg.to;
    match msg.kind {
        SigKind::Offer | SigKind::Candidate => {
            cx.world.send(Signal { from: server, to: msg.peer, ..msg });
        }
        SigKind::Answer | SigKind::RemoteCandidate => {
            // Only a client whose socket is still open can receive.
            let open = cx.client(msg.via).is_some_and(|c| c.state == ClientState::Connected && c.server == server);
            if open {
                cx.world.send(Signal { from: server, to: msg.via, ..msg });
            } else {
                cx.count("signaling.relay_dropped");
                cx.trace(EventKind::Note, server, "relay_dropped", msg.via, Args::EMPTY.s("kind", msg.kind.name()));
            }
        }
    }
}

fn remote(cx: &mut Cx, msg: Signal) {
    let me = msg.to;
    let Some(e) = cx.world.entity_of(me) else {
        return;
    };
    match msg.kind {
        SigKind::Offer => {
            let mut early = Vec::new();
            if let Some(mut r) = cx.world.get_mut::<Remote>(e) {
                r.pc = Some(msg.pc);
                r.reply_via = msg.via;
                let held = std::mem::take(&mut r.early);
                let (mine, rest): (Vec<_>, Vec<_>) = held.into_iter().partition(|(pc, _, _)| *pc == msg.pc);
                r.early = rest;
                early = mine;
            }
            reply(cx, &msg, SigKind::Answer);
            for (pc, server, via) in early {
                reply(
                    cx,
                    &Signal { from: server, to: me, kind: SigKind::Candidate, peer: me, pc, via },
                    SigKind::RemoteCandidate,
                );
            }
        }
        SigKind::Candidate => {
            let pc_peer = cx.pc(msg.pc).map(|p| p.peer).unwrap_or_default();
            cx.world.resource_mut::<Facts>().arrivals.push((me, msg.pc, pc_peer));
            let current = cx.world.get::<Remote>(e).and_then(|r| r.pc);
            let offered = cx.pc(msg.pc).is_some_and(|p| p.state != super::components::PcState::New);
            if current == Some(msg.pc) {
                reply(cx, &msg, SigKind::RemoteCandidate);
            } else if current.is_none_or(|c| c != msg.pc) && offered && !is_older(cx, current, msg.pc) {
                // Its offer is still on the way: hold the candidate until it arrives.
                if let Some(mut r) = cx.world.get_mut::<Remote>(e) {
                    r.early.push((msg.pc, msg.from, msg.via));
                }
            } else {
                // A candidate of another negotiation: addIceCandidate rejects it (ufrag mismatch).
                cx.count("signaling.stale_candidates");
            }
        }
        SigKind::Answer | SigKind::RemoteCandidate => {}
    }
}

/// Reply through the server the message came from, to the client that carried it.
fn reply(cx: &mut Cx, to: &Signal, kind: SigKind) {
    cx.world.send(Signal { from: to.to, to: to.from, kind, peer: to.to, pc: to.pc, via: to.via });
}

/// Whether `pc` is an older connection than `current` (the same peer reconnected since).
fn is_older(cx: &mut Cx, current: Option<Id>, pc: Id) -> bool {
    let Some(current) = current else { return false };
    let names = cx.world.resource::<crate::engine::Names>();
    generation(names.name(pc)) < generation(names.name(current))
}

fn generation(name: &str) -> u64 {
    name.rsplit('#').next().and_then(|n| n.parse().ok()).unwrap_or(0)
}
