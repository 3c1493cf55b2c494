//! Peer connections: ICE gathering, the variant's path from `onIceCandidate` to a signaling
//! client, closing, and the manager's handling of answers and remote candidates.

use super::Variant;
use super::components::{Client, PcState};
use super::cx::Cx;
use super::manager;
use super::signal::{SigKind, Signal, Wake};
use crate::engine::Id;
use crate::engine::timers::Timers;
use crate::engine::trace::{Args, EventKind};

/// Start an ICE gathering round: how many candidates and when come from the tape. The
/// platform keeps delivering them until `close()` completes.
pub fn gather(cx: &mut Cx, pc: Id) {
    let (lo, hi) = cx.params.ice_count;
    let n = cx.tape().range("ice.count", lo, hi);
    let (dlo, dhi) = cx.params.ice_delay;
    for _ in 0..n {
        let d = cx.tape().range("ice.delay", dlo, dhi);
        cx.timer(d, Wake::Ice(pc));
    }
    if let Some(mut p) = cx.pc(pc) {
        p.gathering += n as u32;
    }
}

/// `connection.pc.onIceCandidate` fired for `pc`.
pub fn on_ice_candidate(cx: &mut Cx, pc: Id) {
    let Some(p) = cx.pc_copy(pc) else { return };
    if p.state == PcState::Closed || p.gathering == 0 {
        return;
    }
    if let Some(mut p) = cx.pc(pc) {
        p.gathering -= 1;
    }
    let peer = p.peer;
    cx.trace(EventKind::Call, pc, "on_ice_candidate", peer, Args::EMPTY.b("closing", p.closing));
    match cx.variant {
        Variant::FlagCallback => {
            // `onSignalingMessage?.call(peerId, msg)`; the callback reads the current client.
            if cx.mgr.callback.is_some() {
                via_current_client(cx, peer, pc);
            }
        }
        Variant::VersionToken => {
            if let Some(cb) = cx.mgr.callback {
                if cb.version != cx.mgr.version {
                    dropped(cx, pc, "stale_version");
                } else if cx.connected(cb.client) {
                    let c = cb.client.unwrap_or_default();
                    cx.send(c, SigKind::Candidate, peer, pc);
                } else {
                    dropped(cx, pc, "captured_client_not_connected");
                }
            }
        }
        Variant::PerPeerMap => {
            if cx.mgr.per_peer.contains(&peer) {
                via_current_client(cx, peer, pc);
            }
        }
        Variant::Stream => {
            if cx.mgr.controller_closed {
                // `add` on a closed StreamController throws a StateError in the handler.
                cx.count("signaling.add_after_close_errors");
                dropped(cx, pc, "controller_closed");
                return;
            }
            // A broadcast controller delivers in a microtask, before any other event can run,
            // to every live subscription; each listener reads the current client.
            for _ in 0..cx.mgr.streams.len() {
                via_current_client(cx, peer, pc);
            }
        }
        Variant::SessionBound => {
            let own = p.session;
            let open = own.is_some_and(|s| cx.mgr.sessions.contains(&s));
            if p.attached && open && cx.connected(own) {
                cx.send(own.unwrap_or_default(), SigKind::Candidate, peer, pc);
            } else {
                dropped(cx, pc, "session_closed");
            }
        }
    }
}

/// The guard every callback body shares: `if (_signalingClient == null || !isConnected) return;`.
fn via_current_client(cx: &mut Cx, peer: Id, pc: Id) {
    let client = cx.mgr.client;
    match client {
        Some(c) if cx.connected(client) => cx.send(c, SigKind::Candidate, peer, pc),
        _ => dropped(cx, pc, "no_connected_client"),
    }
}

fn dropped(cx: &mut Cx, pc: Id, why: &'static str) {
    cx.count("signaling.candidates_dropped");
    cx.trace(EventKind::Note, pc, "candidate_dropped", Id::NONE, Args::EMPTY.s("why", why));
}

/// `await pc.close()`: the connection is closing at once and closed when the platform says
/// so; `op` resumes then.
pub fn close(cx: &mut Cx, pc: Id, op: Option<usize>) {
    if let Some(mut p) = cx.pc(pc)
        && p.state != PcState::Closed
    {
        p.closing = true;
    }
    let d = cx.await_delay();
    cx.timer(d, Wake::CloseDone(pc, op));
}

/// The platform finished closing `pc`.
pub fn close_done(cx: &mut Cx, pc: Id, op: Option<usize>) {
    if cx.pc(pc).is_some_and(|p| p.state != PcState::Closed) {
        cx.set_state(pc, PcState::Closed);
        if let Some(mut p) = cx.pc(pc) {
            p.closing = false;
            p.gathering = 0;
        }
        cx.world.resource_mut::<Timers<Wake>>().retain(|w| *w != Wake::Ice(pc));
    }
    if let Some(i) = op {
        manager::resume(cx, i);
    }
}

/// `session_bound`: closing a session detaches its connections' callbacks and closes them,
/// synchronously, before anything else can run.
pub fn close_session(cx: &mut Cx, client: Id) {
    cx.mgr.sessions.remove(&client);
    let owned: Vec<(Id, Id)> = cx.mgr.connections.clone();
    for (peer, pc) in owned {
        if cx.pc(pc).is_some_and(|p| p.session == Some(client)) {
            if let Some(mut p) = cx.pc(pc) {
                p.attached = false;
            }
            cx.mgr.connections.retain(|(p, _)| *p != peer);
            close(cx, pc, None);
        }
    }
}

/// The connection's transport fails mid-setup (`fail_peer`).
pub fn fail(cx: &mut Cx, peer: Id) {
    let Some(pc) = cx.mgr.connection(peer) else { return };
    let Some(p) = cx.pc_copy(pc) else { return };
    if p.closing {
        return;
    }
    match p.state {
        PcState::Connecting => {
            cx.set_state(pc, PcState::Failed);
            if let Some(mut p) = cx.pc(pc) {
                p.gathering = 0;
            }
        }
        // No transport yet: it fails as soon as it has one.
        PcState::New => {
            if let Some(mut p) = cx.pc(pc) {
                p.fail_pending = true;
            }
        }
        _ => {}
    }
}

/// A network change: every connected transport drops; the ICE agent either recovers
/// (calm) or needs an ICE restart, which gathers new candidates through the callbacks.
pub fn network_change(cx: &mut Cx) {
    let conns: Vec<Id> = cx.mgr.connections.iter().map(|(_, c)| *c).collect();
    for pc in conns {
        if cx.pc(pc).is_some_and(|p| p.state == PcState::Connected && !p.closing) {
            cx.set_state(pc, PcState::Disconnected);
            let d = cx.await_delay();
            cx.timer(d, Wake::IceRestart(pc));
        }
    }
}

/// After a network change: recover, or restart ICE.
pub fn ice_restart(cx: &mut Cx, pc: Id) {
    if !cx.pc(pc).is_some_and(|p| p.state == PcState::Disconnected && p.live()) {
        return;
    }
    if cx.tape().choose("net.restart", 2) == 0 {
        cx.set_state(pc, PcState::Connected);
        return;
    }
    cx.set_state(pc, PcState::Connecting);
    if let Some(mut p) = cx.pc(pc) {
        p.remote_candidate = false;
    }
    gather(cx, pc);
}

/// A signaling message reached `client`: `_handleSignalingMessage` if the manager listens.
pub fn client_receives(cx: &mut Cx, client: Id, msg: &Signal) {
    let listened = cx.client(client).is_some_and(|c: bevy_ecs::prelude::Mut<Client>| c.listened);
    if !listened {
        cx.count("signaling.messages_unheard");
        cx.trace(EventKind::Note, client, "message_unheard", msg.pc, Args::EMPTY.s("kind", msg.kind.name()));
        return;
    }
    // `_webrtcService.handleAnswer(peer, ...)` looks the connection up by peer; WebRTC itself
    // rejects an answer or candidate of another negotiation (ufrag / SDP mismatch).
    let target = match cx.variant {
        Variant::SessionBound => cx.pc(msg.pc).filter(|p| p.attached).map(|p| p.id),
        _ => cx.mgr.connection(msg.peer),
    };
    if target != Some(msg.pc) {
        cx.count("signaling.stale_messages");
        return;
    }
    let Some(mut p) = cx.pc(msg.pc) else { return };
    match msg.kind {
        SigKind::Answer => p.answered = true,
        SigKind::RemoteCandidate => p.remote_candidate = true,
        _ => {}
    }
    let ready = p.answered && p.remote_candidate && p.state == PcState::Connecting && !p.closing;
    if ready {
        cx.set_state(msg.pc, PcState::Connected);
    }
}
