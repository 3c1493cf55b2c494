//! `WebRTCService` (packages/app/lib/core/network/webrtc_service.dart at `4af3c998`; line
//! numbers cite it), the variants' ICE paths, and the platform's own events (ICE candidates,
//! a transport failing, a network change).

use super::Variant;
use super::client::Thrown;
use super::dart::{Dart, io, micro, platform};
use super::heap::{C, Callback, Heap, Out, P, PcState, Source};
use super::signal::SigKind;
use crate::engine::Id;
use crate::engine::trace::{Args, EventKind};

/// What a connection is made with besides its peer.
#[derive(Clone, Copy, Debug, Default)]
pub struct Bind {
    /// The client whose `pair_matched` started the negotiation.
    pub session: Option<C>,
    /// `injected_client`: the client the connection sends its candidates through.
    pub injected: Option<C>,
    /// `request_map`: the request id of its handler.
    pub request: u32,
}

/// A platform call on `p` (`await connection.pc.xxx()`); it throws if the connection was
/// closed by the time the platform gets to it.
async fn call(d: &Dart, p: P) -> Result<(), Thrown> {
    platform(d, p).await;
    if d.with(|h| h.pc(p).state == PcState::Closed) { Err(Thrown::ClosedConnection) } else { Ok(()) }
}

/// `createOffer(peerId)` (:66-80).
pub async fn create_offer(d: &Dart, peer: Id, bind: Bind) -> Result<P, Thrown> {
    // :67 `final connection = await _createConnection(peerId);`
    let p = create_connection(d, peer, bind).await?;
    // :70 `await _createDataChannels(connection);`
    create_data_channels(d, p).await?;
    // :73 `final offer = await connection.pc.createOffer();`
    call(d, p).await?;
    // :74 `await connection.pc.setLocalDescription(offer);`: ICE gathering starts.
    call(d, p).await?;
    d.with(|h| {
        h.pc_mut(p).local = true;
        let id = h.pc(p).id;
        h.out.push(Out::Gather(p, id));
    });
    Ok(p)
}

/// `_createConnection(peerId)` (:250-267).
async fn create_connection(d: &Dart, peer: Id, bind: Bind) -> Result<P, Thrown> {
    // :252 `await closeConnection(peerId);`
    close_connection(d, peer).await;
    // :259 `final pc = await createPeerConnection(config);`
    io(d).await;
    Ok(d.with(|h| {
        let p = h.new_pc(peer, bind.session, bind.injected, bind.request);
        // :261 `_connections[peerId] = connection;`: a connection an overlapping call put
        // there meanwhile is replaced, and nothing closes it.
        match h.connections.iter_mut().find(|(q, _)| *q == peer) {
            Some(entry) => {
                let old = h.pcs[entry.1 as usize].id;
                entry.1 = p;
                h.note("connection_replaced_unclosed", old);
            }
            None => h.connections.push((peer, p)),
        }
        // :264 `_setupConnectionHandlers(connection)`: its onIceCandidate captures peerId.
        p
    }))
}

/// `_createDataChannels(connection)` (:311-331): two platform calls.
async fn create_data_channels(d: &Dart, p: P) -> Result<(), Thrown> {
    call(d, p).await?;
    d.with(|h| h.pc_mut(p).channels = 1);
    call(d, p).await?;
    d.with(|h| h.pc_mut(p).channels = 2);
    Ok(())
}

/// `closeConnection(peerId)` (:227-234).
pub async fn close_connection(d: &Dart, peer: Id) {
    // :228 `final connection = _connections.remove(peerId);`
    let conn = d.with(|h| {
        let p = h.connection(peer)?;
        h.connections.retain(|(q, _)| *q != peer);
        let id = h.pc(p).id;
        h.trace(EventKind::State, id, "removed", peer, Args::EMPTY);
        if h.v == Variant::RequestMap {
            // The request ends with its connection: its handler goes with the map entry.
            let r = h.pc(p).request;
            h.handlers.remove(&r);
        }
        Some(p)
    });
    let Some(p) = conn else {
        micro(d).await;
        return;
    };
    // :230 `await connection.messageChannel?.close();`
    if d.with(|h| h.pc(p).channels >= 1) {
        platform(d, p).await;
    } else {
        micro(d).await;
    }
    // :231 `await connection.fileChannel?.close();`
    if d.with(|h| h.pc(p).channels >= 2) {
        platform(d, p).await;
    } else {
        micro(d).await;
    }
    // :232 `await connection.pc.close();`
    pc_close(d, p).await;
}

/// `await pc.close()`: the connection is closing from the call, closed when the platform
/// has done it. Until then the platform may still deliver its ICE candidates.
pub async fn pc_close(d: &Dart, p: P) {
    d.with(|h| {
        if h.pc(p).state != PcState::Closed && !h.pc(p).closing {
            h.pc_mut(p).closing = true;
            let (id, peer) = (h.pc(p).id, h.pc(p).peer);
            h.trace(EventKind::State, id, "closing", peer, Args::EMPTY);
        }
    });
    platform(d, p).await;
    d.with(|h| {
        if h.pc(p).state != PcState::Closed {
            h.set_pc_state(p, PcState::Closed);
            h.out.push(Out::CancelIce(p));
        }
    });
}

/// `dispose()` (:237-241). Solution 2 and bb400e41 close `_signalingController` after the
/// connections (bb400e41 :263, Solution 2's `dispose`).
pub async fn dispose(d: &Dart) {
    // :238 `for (final peerId in _connections.keys.toList())`: a snapshot; a connection
    // added while this runs is not in it.
    let peers: Vec<Id> = d.with(|h| h.connections.iter().map(|(q, _)| *q).collect());
    for peer in peers {
        // :239 `await closeConnection(peerId);`
        close_connection(d, peer).await;
    }
    if d.with(|h| matches!(h.v, Variant::Stream | Variant::ShippedStream)) {
        // `await _signalingController.close();`
        d.with(|h| h.controller_closed = true);
        micro(d).await;
    }
}

/// The connection a response about negotiation `pc_id` for `peer` goes to, and whether it
/// is the negotiation the response belongs to.
fn target(h: &Heap, peer: Id, pc_id: Id) -> Option<(P, bool)> {
    match h.v {
        // Telegram's pattern: a response goes to the handler registered for its request.
        Variant::RequestMap => {
            let p = h.pc_by_id(pc_id)?;
            h.handlers.contains_key(&h.pc(p).request).then_some((p, true))
        }
        // `_connections[peerId]` (:109, :124): the current connection to the peer.
        _ => h.connection(peer).map(|p| (p, h.pc(p).id == pc_id)),
    }
}

/// `handleAnswer(peerId, answer)` (:105-117).
pub async fn handle_answer(d: &Dart, peer: Id, pc_id: Id) -> Result<(), Thrown> {
    // :109-112 `final connection = _connections[peerId]; if (connection == null) throw ...`
    let Some((p, same)) = d.with(|h| target(h, peer, pc_id)) else {
        d.with(|h| h.count("signaling.answers_without_connection"));
        return Err(Thrown::NoConnection);
    };
    if d.with(|h| h.v == Variant::StateMachine && !h.pc(p).open()) {
        return Ok(());
    }
    // :114 `await connection.pc.setRemoteDescription(answer);`
    call(d, p).await?;
    d.with(|h| {
        if !same {
            // An answer to another offer: WebRTC rejects it (its DTLS fingerprint and ICE
            // credentials are another negotiation's).
            h.count("signaling.stale_messages");
            return Err(Thrown::WrongNegotiation);
        }
        h.pc_mut(p).remote = true;
        if h.pc(p).state == PcState::New {
            h.set_pc_state(p, PcState::Connecting);
        }
        if h.pc(p).fail_pending {
            h.set_pc_state(p, PcState::Failed);
        }
        maybe_connected(h, p);
        Ok(())
    })
}

/// `addIceCandidate(peerId, candidate)` (:120-137).
pub async fn add_ice_candidate(d: &Dart, peer: Id, pc_id: Id) -> Result<(), Thrown> {
    // :124-128 `if (connection == null) return;` (the comment says "queue", the code drops)
    let Some((p, same)) = d.with(|h| target(h, peer, pc_id)) else {
        d.with(|h| h.count("signaling.candidates_without_connection"));
        return Ok(());
    };
    if d.with(|h| h.v == Variant::StateMachine && !h.pc(p).open()) {
        return Ok(());
    }
    // :130 `await connection.pc.addCandidate(...)`
    call(d, p).await?;
    d.with(|h| {
        if !same {
            h.count("signaling.stale_messages");
            return Err(Thrown::WrongNegotiation);
        }
        if !h.pc(p).remote {
            return Err(Thrown::NoRemoteDescription);
        }
        h.pc_mut(p).remote_candidate = true;
        maybe_connected(h, p);
        Ok(())
    })
}

/// ICE connectivity: both descriptions set and a candidate pair known on both sides (the
/// remote peer answers a candidate of ours with one of its own).
fn maybe_connected(h: &mut Heap, p: P) {
    let pc = h.pc(p);
    if pc.remote
        && pc.remote_candidate
        && !pc.closing
        && matches!(pc.state, PcState::Connecting | PcState::Disconnected)
    {
        h.set_pc_state(p, PcState::Connected);
    }
}

/// The platform gathered an ICE candidate for `p`: `onIceCandidate` (:273-282), or the
/// variant's replacement of it.
pub fn on_ice_candidate(d: &Dart, p: P) {
    d.with(|h| {
        let pc = h.pc(p).clone();
        if pc.state == PcState::Closed {
            return;
        }
        h.trace(EventKind::Call, pc.id, "on_ice_candidate", pc.peer, Args::EMPTY.b("closing", pc.closing));
        let peer = pc.peer;
        match h.v {
            // :275 `onSignalingMessage?.call(peerId, {...})`
            Variant::FlagCallback | Variant::VersionToken | Variant::DisposeUnawaited => {
                if let Some(cb) = h.on_signaling_message {
                    run_callback(h, cb, peer, p);
                }
            }
            Variant::StateMachine => {
                // "Prevents operations on closed connections": only the connection in
                // `_connections`, not closing, forwards its candidates.
                if !pc.open() || !h.in_connections(p) {
                    dropped(h, p, "connection_not_open");
                } else if let Some(cb) = h.on_signaling_message {
                    run_callback(h, cb, peer, p);
                }
            }
            // Solution 1: `final callback = _signalingCallbacks[peerId]; callback?.call({...});`
            Variant::PerPeerMap => match h.signaling_callbacks.iter().find(|(q, _)| *q == peer) {
                Some(&(_, cb)) => run_callback(h, cb, peer, p),
                None => dropped(h, p, "no_callback_for_peer"),
            },
            // Solution 2 / bb400e41: `_signalingController.add((peerId, {...}))`, delivered to
            // each live subscription in a microtask. bb400e41 then also calls the deprecated
            // `onSignalingMessage?.call(...)`, which nothing sets any more.
            Variant::Stream | Variant::ShippedStream => {
                if h.controller_closed {
                    // `add` after `close()` throws a StateError in the platform's callback.
                    h.count("signaling.add_after_close_errors");
                    dropped(h, p, "controller_closed");
                    return;
                }
                let listeners = h.event_listeners();
                if listeners.is_empty() {
                    dropped(h, p, "no_listener");
                }
                for l in listeners {
                    debug_assert!(matches!(l, Source::EventsToCurrentClient | Source::EventsToSignalingState));
                    // Solution 2's listener reads `_signalingClient`; bb400e41's reads
                    // `_signalingState`: the same field here. Both return unless connected.
                    run_callback(h, Callback::ReadsCurrent, peer, p);
                }
            }
            // Signal's fix: the connection was handed its client; it sends through it.
            Variant::InjectedClient => match pc.injected {
                Some(c) if h.client(c).is_connected => h.ws_send(c, SigKind::Candidate, peer, Some(p)),
                _ => dropped(h, p, "injected_client_not_connected"),
            },
            // Telegram's pattern: the handler registered for the connection's request id.
            Variant::RequestMap => {
                if h.handlers.contains_key(&pc.request) {
                    run_callback(h, Callback::ReadsCurrent, peer, p);
                } else {
                    dropped(h, p, "no_handler_for_request");
                }
            }
        }
    });
}

/// Run a signaling callback for a candidate of `p` addressed to `target`.
fn run_callback(h: &mut Heap, cb: Callback, target: Id, p: P) {
    match cb {
        // connection_manager.dart:175-179
        Callback::ReadsCurrent | Callback::PerPeer(_) => {
            let to = if let Callback::PerPeer(code) = cb { code } else { target };
            // `if (_signalingClient == null || !_signalingClient!.isConnected) return;`
            match h.current_connected() {
                // `_signalingClient!.sendIceCandidate(targetPeerId, message);`
                Some(c) => h.ws_send(c, SigKind::Candidate, to, Some(p)),
                None => dropped(h, p, "no_connected_client"),
            }
        }
        // Solution 3's callback.
        Callback::Versioned { version, client } => {
            if version != h.callback_version {
                dropped(h, p, "stale_version");
                return;
            }
            match client {
                Some(c) if h.client(c).is_connected => h.ws_send(c, SigKind::Candidate, target, Some(p)),
                _ => dropped(h, p, "captured_client_not_connected"),
            }
        }
    }
}

fn dropped(h: &mut Heap, p: P, why: &'static str) {
    h.count("signaling.candidates_dropped");
    let id = h.pc(p).id;
    h.trace(EventKind::Note, id, "candidate_dropped", Id::NONE, Args::EMPTY.s("why", why));
}

/// The connection's transport fails (`fail_peer`): it goes `failed` now if it has a
/// transport, else as soon as it gets one.
pub fn fail(d: &Dart, peer: Id) {
    d.with(|h| {
        let Some(p) = h.connection(peer) else {
            h.note("fail_peer_without_connection", peer);
            return;
        };
        if !h.pc(p).open() {
            return;
        }
        if h.pc(p).remote {
            h.set_pc_state(p, PcState::Failed);
        } else {
            h.pc_mut(p).fail_pending = true;
        }
    });
}

/// A network change (`network_change`): connected transports drop (`disconnected`, which
/// the app shows as failed, :293-295) and ICE gathers new candidates, which go through the
/// variant's ICE path; the remote's answer to one of them reconnects the connection.
pub fn network_change(d: &Dart) {
    d.with(|h| {
        let conns: Vec<P> = h.connections.iter().map(|(_, p)| *p).collect();
        for p in conns {
            if h.pc(p).state == PcState::Connected && h.pc(p).open() {
                h.set_pc_state(p, PcState::Disconnected);
                h.pc_mut(p).remote_candidate = false;
                let id = h.pc(p).id;
                h.out.push(Out::Gather(p, id));
            }
        }
    });
}
