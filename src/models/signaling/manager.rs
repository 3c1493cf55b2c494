//! The app's `ConnectionManager` and the `WebRTCService` it drives, as async operations.
//!
//! Dart runs one event loop: synchronous code between two `await`s is atomic, and every
//! `await` on a platform future (socket connect/close, `createOffer`, `pc.close()`) lets
//! other events run. Each public async method is therefore an operation with a program
//! counter: it runs synchronously until its next `await`, then a timer (its delay drawn
//! from the tape) resumes it. Several operations may be suspended at once, as in the app.

use super::Variant;
use super::components::{Client, ClientState, Pc, PcState};
use super::cx::Cx;
use super::signal::{SigKind, Wake};
use super::webrtc;
use crate::engine::Id;
use crate::engine::trace::{Args, EventKind};
use bevy_ecs::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

/// The single `onSignalingMessage` callback (`flag_callback`, `version_token`) and what it captured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotCallback {
    /// `capturedVersion` (version_token).
    pub version: u32,
    /// `capturedClient` (version_token).
    pub client: Option<Id>,
}

/// An async method of the manager, suspended or running.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpKind {
    /// `enableExternalConnections(server)`.
    Enable(Id),
    /// `disableExternalConnections()`.
    Disable,
    /// `dispose()`.
    Dispose,
    /// `connectToExternalPeer(peer)` -> `_startWebRTCConnection`.
    Connect(Id),
    /// `disconnectPeer(peer)`.
    Disconnect(Id),
    /// `_webrtcService.dispose()`: close every connection in turn.
    WebrtcDispose,
}

/// A suspended operation: its kind, program counter and locals.
#[derive(Clone, Debug)]
pub struct Op {
    kind: OpKind,
    pc: u8,
    /// The client this call created or captured.
    client: Option<Id>,
    /// The peer connection this call created.
    conn: Option<Id>,
    /// Connections still to close (webrtc dispose).
    queue: Vec<Id>,
    /// What to start when this finishes (`switch_server`: enable after disable).
    then: Option<OpKind>,
}

/// State of the ConnectionManager and the WebRTCService (one app).
#[derive(Resource, Debug, Default)]
pub struct Manager {
    /// The app's id.
    pub app: Id,
    /// `_signalingClient`.
    pub client: Option<Id>,
    /// `_signalingSubscription`: the client whose messages the manager listens to.
    pub msg_sub: Option<Id>,
    /// `_signalingCallbackConfigured`.
    pub flag: bool,
    /// `_webrtcService.onSignalingMessage` (never cleared by the original code).
    pub callback: Option<SlotCallback>,
    /// `_callbackVersion`.
    pub version: u32,
    /// `_signalingCallbacks` keys (per_peer_map).
    pub per_peer: BTreeSet<Id>,
    /// Live subscriptions to `signalingMessages` (stream).
    pub streams: Vec<u32>,
    /// `_signalingMessageSubscription` (stream).
    pub stream_field: Option<u32>,
    next_stream: u32,
    /// `_signalingController` was closed (stream).
    pub controller_closed: bool,
    /// `_connections`: peer -> connection, in insertion order.
    pub connections: Vec<(Id, Id)>,
    /// Open signaling sessions, by their client (session_bound).
    pub sessions: BTreeSet<Id>,
    client_gen: u32,
    pc_gen: BTreeMap<Id, u32>,
    ops: Vec<Option<Op>>,
}

enum Flow {
    Next(u8),
    Await(u8),
    AwaitClose(u8, Id),
    Done,
}

impl Manager {
    /// The connection to `peer` in `_connections`.
    pub fn connection(&self, peer: Id) -> Option<Id> {
        self.connections.iter().find(|(p, _)| *p == peer).map(|(_, c)| *c)
    }

    /// Number of suspended operations.
    pub fn pending_ops(&self) -> usize {
        self.ops.iter().filter(|o| o.is_some()).count()
    }
}

/// Start operation `kind` now; it runs until its first `await`.
pub fn start(cx: &mut Cx, kind: OpKind, then: Option<OpKind>) {
    let op = Op { kind, pc: 0, client: None, conn: None, queue: Vec::new(), then };
    let i = match cx.mgr.ops.iter().position(Option::is_none) {
        Some(i) => {
            cx.mgr.ops[i] = Some(op);
            i
        }
        None => {
            cx.mgr.ops.push(Some(op));
            cx.mgr.ops.len() - 1
        }
    };
    resume(cx, i);
}

/// Resume operation `i` where it awaited.
pub fn resume(cx: &mut Cx, i: usize) {
    loop {
        let Some(mut op) = cx.mgr.ops.get(i).cloned().flatten() else {
            return;
        };
        let flow = match op.kind.clone() {
            OpKind::Enable(server) => enable(cx, &mut op, server),
            OpKind::Disable => disable(cx, &mut op),
            OpKind::Dispose => dispose(cx, &mut op),
            OpKind::Connect(peer) => connect(cx, &mut op, peer),
            OpKind::Disconnect(peer) => disconnect(cx, &mut op, peer),
            OpKind::WebrtcDispose => webrtc_dispose(cx, &mut op),
        };
        match flow {
            Flow::Next(pc) => {
                op.pc = pc;
                cx.mgr.ops[i] = Some(op);
            }
            Flow::Await(pc) => {
                op.pc = pc;
                cx.mgr.ops[i] = Some(op);
                let d = cx.await_delay();
                cx.timer(d, Wake::Op(i));
                return;
            }
            Flow::AwaitClose(pc, conn) => {
                op.pc = pc;
                cx.mgr.ops[i] = Some(op);
                webrtc::close(cx, conn, Some(i));
                return;
            }
            Flow::Done => {
                cx.mgr.ops[i] = None;
                if let Some(then) = op.then {
                    start(cx, then, None);
                }
                return;
            }
        }
    }
}

fn note(cx: &mut Cx, what: &'static str, other: Id) {
    let app = cx.mgr.app;
    cx.trace(EventKind::Note, app, what, other, Args::EMPTY);
}

/// `enableExternalConnections`: create the client, await its connect, then listen.
fn enable(cx: &mut Cx, op: &mut Op, server: Id) -> Flow {
    match op.pc {
        0 => {
            cx.mgr.client_gen += 1;
            let id = cx.intern(&format!("client#{}", cx.mgr.client_gen));
            cx.spawn(id, Client { id, server, state: ClientState::Connecting, disposed: false, listened: false });
            cx.mgr.client = Some(id);
            op.client = Some(id);
            cx.trace(EventKind::State, id, "connecting", server, Args::EMPTY);
            Flow::Await(1)
        }
        _ => {
            // connect() sets `_isConnected = true` when the socket is ready, whatever
            // happened to the manager meanwhile.
            let own = op.client.unwrap_or_default();
            if let Some(mut c) = cx.client(own) {
                c.state = ClientState::Connected;
            }
            cx.trace(EventKind::State, own, "connected", Id::NONE, Args::EMPTY);
            // `_signalingSubscription = _signalingClient!.messages.listen(...)` reads the field.
            let Some(field) = cx.mgr.client else {
                note(cx, "null_check_error", own);
                cx.count("signaling.null_check_errors");
                return Flow::Done;
            };
            if let Some(mut c) = cx.client(field) {
                c.listened = true;
            }
            cx.mgr.msg_sub = Some(field);
            match cx.variant {
                Variant::Stream => {
                    // Solution 2: subscribe to the WebRTC service's signaling stream.
                    cx.mgr.next_stream += 1;
                    let sub = cx.mgr.next_stream;
                    cx.mgr.streams.push(sub);
                    cx.mgr.stream_field = Some(sub);
                }
                Variant::SessionBound => {
                    cx.mgr.sessions.insert(own);
                }
                _ => {}
            }
            Flow::Done
        }
    }
}

/// `disableExternalConnections`, as each variant writes it.
fn disable(cx: &mut Cx, op: &mut Op) -> Flow {
    match (cx.variant, op.pc) {
        (Variant::SessionBound, 0) => {
            if let Some(c) = cx.mgr.client.take() {
                webrtc::close_session(cx, c);
                if let Some(mut cl) = cx.client(c) {
                    cl.state = ClientState::Disconnected;
                    cl.listened = false;
                }
            }
            cx.mgr.msg_sub = None;
            Flow::Await(20)
        }
        (Variant::SessionBound, _) => Flow::Done,
        (Variant::VersionToken, 0) => {
            // Solution 3: `_callbackVersion++` before anything else.
            cx.mgr.version += 1;
            Flow::Next(10)
        }
        (Variant::Stream, 0) => {
            // Solution 2: `await _signalingMessageSubscription?.cancel()` first.
            match cx.mgr.stream_field {
                Some(sub) => {
                    cx.mgr.streams.retain(|s| *s != sub);
                    Flow::Await(1)
                }
                None => Flow::Next(1),
            }
        }
        (Variant::Stream, 1) => {
            cx.mgr.stream_field = None;
            Flow::Next(10)
        }
        (_, 0) => Flow::Next(10),
        (_, 10) => {
            // `await _signalingClient?.disconnect()`: `_isConnected = false` at once.
            match cx.mgr.client {
                Some(c) => {
                    if let Some(mut cl) = cx.client(c) {
                        cl.state = ClientState::Disconnected;
                    }
                    cx.trace(EventKind::State, c, "disconnected", Id::NONE, Args::EMPTY);
                    Flow::Await(11)
                }
                None => Flow::Next(11),
            }
        }
        (_, 11) => {
            // `await _signalingSubscription?.cancel()`.
            match cx.mgr.msg_sub {
                Some(c) => {
                    if let Some(mut cl) = cx.client(c) {
                        cl.listened = false;
                    }
                    Flow::Await(12)
                }
                None => Flow::Next(12),
            }
        }
        _ => {
            // The synchronous tail: fields cleared, flag reset last (seed lines 109-116).
            cx.mgr.msg_sub = None;
            cx.mgr.client = None;
            cx.mgr.flag = false;
            note(cx, "disabled", Id::NONE);
            Flow::Done
        }
    }
}

/// `dispose()`: flag reset, `_webrtcService.dispose()` not awaited, the client disposed
/// (its socket closes asynchronously, so `isConnected` stays true until it has).
fn dispose(cx: &mut Cx, op: &mut Op) -> Flow {
    match (cx.variant, op.pc) {
        (Variant::SessionBound, _) => {
            if let Some(c) = cx.mgr.client {
                webrtc::close_session(cx, c);
                if let Some(mut cl) = cx.client(c) {
                    cl.state = ClientState::Disconnected;
                    cl.listened = false;
                    cl.disposed = true;
                }
                cx.trace(EventKind::State, c, "disposed", Id::NONE, Args::EMPTY);
            }
            cx.mgr.msg_sub = None;
            start(cx, OpKind::WebrtcDispose, None);
            Flow::Done
        }
        (Variant::Stream, 0) => match cx.mgr.stream_field {
            Some(sub) => {
                cx.mgr.streams.retain(|s| *s != sub);
                Flow::Await(1)
            }
            None => Flow::Next(1),
        },
        (Variant::Stream, 1) => {
            cx.mgr.stream_field = None;
            Flow::Next(10)
        }
        (Variant::Stream, _) | (_, 10) | (_, 0) => {
            cx.mgr.flag = false;
            start(cx, OpKind::WebrtcDispose, None);
            if let Some(c) = cx.mgr.client {
                if let Some(mut cl) = cx.client(c) {
                    cl.disposed = true;
                }
                cx.trace(EventKind::State, c, "disposed", Id::NONE, Args::EMPTY);
                let d = cx.await_delay();
                cx.timer(d, Wake::SocketClosed(c));
            }
            Flow::Done
        }
        _ => Flow::Done,
    }
}

/// `connectToExternalPeer` -> `_startWebRTCConnection(peer, isInitiator: true)`.
fn connect(cx: &mut Cx, op: &mut Op, peer: Id) -> Flow {
    match op.pc {
        0 => {
            if !cx.connected(cx.mgr.client) {
                note(cx, "connect_rejected_not_connected", peer);
                cx.count("signaling.connects_rejected");
                return Flow::Done;
            }
            match cx.variant {
                Variant::FlagCallback | Variant::VersionToken => configure_callback(cx),
                Variant::PerPeerMap => {
                    cx.mgr.per_peer.insert(peer);
                }
                _ => {}
            }
            // `await _webrtcService.createOffer(peer)`: the connection exists from here on.
            let n = {
                let g = cx.mgr.pc_gen.entry(peer).or_insert(0);
                *g += 1;
                *g
            };
            let peer_name =
                cx.world.resource::<crate::engine::Names>().name(peer).trim_start_matches("peer:").to_owned();
            let id = cx.intern(&format!("pc:{peer_name}#{n}"));
            if let Some(old) = cx.mgr.connection(peer) {
                cx.mgr.connections.retain(|(p, _)| *p != peer);
                webrtc::close(cx, old, None);
            }
            let session = cx.mgr.client;
            cx.spawn(
                id,
                Pc {
                    id,
                    peer,
                    session,
                    state: PcState::New,
                    closing: false,
                    answered: false,
                    remote_candidate: false,
                    gathering: 0,
                    attached: true,
                    fail_pending: false,
                },
            );
            cx.mgr.connections.push((peer, id));
            cx.trace(EventKind::State, id, "new", peer, Args::EMPTY.id("session", session.unwrap_or_default()));
            op.conn = Some(id);
            Flow::Await(1)
        }
        _ => {
            let Some(conn) = op.conn else {
                return Flow::Done;
            };
            if !cx.pc(conn).is_some_and(|p| p.live()) {
                // setLocalDescription on a closed connection throws.
                note(cx, "create_offer_on_closed", conn);
                return Flow::Done;
            }
            cx.set_state(conn, PcState::Connecting);
            if cx.pc(conn).is_some_and(|p| p.fail_pending) {
                cx.set_state(conn, PcState::Failed);
            } else {
                webrtc::gather(cx, conn);
            }
            let via = match cx.variant {
                Variant::SessionBound => cx.pc(conn).and_then(|p| p.session),
                _ => cx.mgr.client,
            };
            match via {
                Some(c) => cx.send(c, SigKind::Offer, peer, conn),
                None => {
                    // `_signalingClient!.sendOffer(...)` on a null field throws.
                    note(cx, "null_check_error", conn);
                    cx.count("signaling.null_check_errors");
                }
            }
            Flow::Done
        }
    }
}

/// `_configureSignalingCallback()`: set the single callback once, guarded by the flag.
fn configure_callback(cx: &mut Cx) {
    if cx.mgr.flag {
        return;
    }
    cx.mgr.flag = true;
    let slot = match cx.variant {
        Variant::VersionToken => {
            cx.mgr.version += 1;
            SlotCallback { version: cx.mgr.version, client: cx.mgr.client }
        }
        _ => SlotCallback { version: 0, client: None },
    };
    cx.mgr.callback = Some(slot);
    let app = cx.mgr.app;
    cx.trace(
        EventKind::Call,
        app,
        "configure_callback",
        slot.client.unwrap_or_default(),
        Args::EMPTY.u("version", u64::from(slot.version)),
    );
}

/// `disconnectPeer(peer)`.
fn disconnect(cx: &mut Cx, op: &mut Op, peer: Id) -> Flow {
    match op.pc {
        0 => {
            if cx.variant == Variant::PerPeerMap {
                cx.mgr.per_peer.remove(&peer);
            }
            match cx.mgr.connection(peer) {
                Some(conn) => {
                    cx.mgr.connections.retain(|(p, _)| *p != peer);
                    if let Some(mut p) = cx.pc(conn) {
                        p.attached = false;
                    }
                    Flow::AwaitClose(1, conn)
                }
                None => Flow::Next(1),
            }
        }
        _ => {
            note(cx, "peer_disconnected", peer);
            Flow::Done
        }
    }
}

/// `_webrtcService.dispose()`: close each connection in turn, awaiting each.
fn webrtc_dispose(cx: &mut Cx, op: &mut Op) -> Flow {
    if op.pc == 0 {
        op.queue = cx.mgr.connections.iter().rev().map(|(_, c)| *c).collect();
        cx.mgr.connections.clear();
    }
    match op.queue.pop() {
        Some(conn) => Flow::AwaitClose(1, conn),
        None => {
            if cx.variant == Variant::Stream {
                cx.mgr.controller_closed = true;
            }
            Flow::Done
        }
    }
}
