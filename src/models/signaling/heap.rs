//! The app's heap: the fields of `ConnectionManager` and `WebRTCService`, the
//! `SignalingClient` and `RTCPeerConnection` objects, and the subscriptions and callbacks
//! between them. Field names follow the Dart code; objects are referred to by index.
//!
//! What the heap cannot do itself (draw from the tape, arm a timer, put a message on the
//! wire, record a trace event or a violation) it queues as [`Out`] effects, which the
//! model's system applies to the world, in order, right after the Dart code ran.

use super::dart::{Task, TaskId, Wait};
use super::invariants as inv;
use super::signal::{SigKind, Signal, Wake};
use super::{Params, Variant};
use crate::engine::trace::{Args, EventKind};
use crate::engine::{Id, Names};
use std::collections::{BTreeMap, VecDeque};

/// A signaling client (index into [`Heap::clients`]).
pub type C = u16;
/// A peer connection (index into [`Heap::pcs`]).
pub type P = u16;
/// A stream subscription (index into [`Heap::subs`]).
pub type S = u16;

/// A `SignalingClient` (signaling_client.dart).
#[derive(Clone, Debug)]
pub struct Client {
    /// Its stable id; its pairing code is the same name.
    pub id: Id,
    /// The server its URL names.
    pub server: Id,
    /// `_isConnected`.
    pub is_connected: bool,
    /// `_channel != null`.
    pub channel: bool,
    /// The socket is open: its handshake completed and no close frame was sent.
    pub socket_open: bool,
    /// `_subscription != null`: the socket's stream is listened to (`_handleMessage`).
    pub listening: bool,
    /// `_messageController` and `_connectionStateController` are closed.
    pub controllers_closed: bool,
    /// `dispose()` was called on it.
    pub disposed: bool,
    /// The enable that created it (its sequence number).
    pub enable: u32,
}

/// WebRTC's `RTCPeerConnectionState`, as the platform reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PcState {
    /// Created; no remote description yet.
    New,
    /// Both descriptions set, ICE checking.
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
            (New, Connecting | Failed | Closed)
                | (Connecting, Connected | Disconnected | Failed | Closed)
                | (Connected, Disconnected | Failed | Closed)
                | (Disconnected, Connecting | Connected | Failed | Closed)
                | (Failed, Connecting | Closed)
        )
    }
}

/// A `_PeerConnection` with its `RTCPeerConnection`.
#[derive(Clone, Debug)]
pub struct Pc {
    /// Its stable id ("pc:P1#2": the second connection to P1).
    pub id: Id,
    /// The remote peer.
    pub peer: Id,
    /// The signaling client that delivered the `pair_matched` this negotiation answers: the
    /// session its candidates belong to.
    pub session: Option<C>,
    /// `injected_client`: the client handed to the connection when it was made.
    pub injected: Option<C>,
    /// `request_map`: the request id its handler is registered under.
    pub request: u32,
    /// Its state.
    pub state: PcState,
    /// `close()` was called.
    pub closing: bool,
    /// Data channels created (`messageChannel`, `fileChannel`).
    pub channels: u8,
    /// The local description is set: ICE gathering has started.
    pub local: bool,
    /// The remote description (the answer) is set.
    pub remote: bool,
    /// A remote candidate was added.
    pub remote_candidate: bool,
    /// `fail_peer` came before it had a transport: it fails as soon as it has one.
    pub fail_pending: bool,
    /// Tasks waiting for their platform call on this connection, in call order.
    pub chain: VecDeque<TaskId>,
}

impl Pc {
    /// Whether the connection is still open (not closed, `close()` not called).
    pub fn open(&self) -> bool {
        self.state != PcState::Closed && !self.closing
    }
}

/// What a stream subscription listens to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// `client.messages`: `_handleSignalingMessage`.
    ClientMessages(C),
    /// `signalingMessages` (Solution 2): forwards a candidate through `_signalingClient`.
    EventsToCurrentClient,
    /// `signalingEvents` (bb400e41): forwards through the client of `_signalingState`.
    EventsToSignalingState,
}

/// A `StreamSubscription`.
#[derive(Clone, Copy, Debug)]
pub struct Sub {
    /// What it listens to.
    pub on: Source,
    /// `cancel()` was called.
    pub cancelled: bool,
}

/// The closure set as a signaling callback, by what it reads when it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Callback {
    /// `_configureSignalingCallback` (connection_manager.dart:174-180): reads
    /// `_signalingClient` when it runs.
    ReadsCurrent,
    /// Solution 3: `capturedVersion` and `capturedClient`.
    Versioned {
        /// `capturedVersion`.
        version: u32,
        /// `capturedClient`.
        client: Option<C>,
    },
    /// Solution 1: reads `_signalingClient` when it runs, sends to the captured `peerCode`.
    PerPeer(Id),
}

/// The peer as the UI sees it (`Peer.connectionState`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeerUi {
    /// `PeerConnectionState.connecting`.
    Connecting,
    /// `PeerConnectionState.connected`.
    Connected,
    /// `PeerConnectionState.failed`.
    Failed,
    /// `PeerConnectionState.disconnected`.
    Disconnected,
}

impl PeerUi {
    /// The name used in traces.
    pub fn name(self) -> &'static str {
        match self {
            PeerUi::Connecting => "ui_connecting",
            PeerUi::Connected => "ui_connected",
            PeerUi::Failed => "ui_failed",
            PeerUi::Disconnected => "ui_disconnected",
        }
    }
}

/// `state_machine`: the external-connection lifecycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Life {
    /// No signaling.
    Disabled,
    /// Enabled and settled.
    Enabled,
    /// Disposed.
    Disposed,
}

/// An effect on the world, applied after the Dart code ran.
#[derive(Clone, Debug)]
pub enum Out {
    /// Arm a timer after an I/O window from the tape.
    ArmIo(Wake),
    /// Arm a timer after a fixed number of ticks.
    Arm(u64, Wake),
    /// ICE gathering started on connection `P`: the tape picks how many candidates and when.
    Gather(P, Id),
    /// Cancel the connection's pending ICE candidates (its `close()` completed).
    CancelIce(P),
    /// Put a message on the wire.
    Send(Signal),
    /// A trace event.
    Trace(EventKind, Id, &'static str, Id, Args),
    /// Count an event.
    Count(&'static str),
    /// An invariant broke.
    Violate(&'static str, String, Vec<Id>),
}

/// The app.
pub struct Heap {
    /// The variant being modelled.
    pub v: Variant,
    /// Timing.
    pub params: Params,
    /// The app's id.
    pub app: Id,
    /// The id names (lent by the world while Dart code runs).
    pub names: Names,
    /// Whether the trace records events.
    pub tracing: bool,
    /// Effects to apply.
    pub out: Vec<Out>,
    /// Suspended tasks.
    pub tasks: Vec<Option<Task>>,
    /// The task being polled.
    pub current: TaskId,

    // ConnectionManager (connection_manager.dart)
    /// `_signalingClient` (bb400e41: the client of `_signalingState`, `None` for `SignalingDisconnected`).
    pub signaling_client: Option<C>,
    /// `_externalPairingCode != null` (the code is the client's id).
    pub pairing_code: bool,
    /// `_signalingSubscription`.
    pub signaling_subscription: Option<S>,
    /// `_signalingCallbackConfigured`.
    pub callback_configured: bool,
    /// Solution 3's `_callbackVersion`.
    pub callback_version: u32,
    /// Solution 2's `_signalingMessageSubscription`, bb400e41's `_signalingEventsSubscription`.
    pub events_subscription: Option<S>,
    /// `_peers`, in insertion order.
    pub peers: Vec<(Id, PeerUi)>,
    /// `dispose()` was called.
    pub disposing: bool,
    /// `dispose()` returned.
    pub disposed: bool,
    /// `state_machine`: the lifecycle, whether an operation is running, and the buffered ones.
    pub life: Life,
    /// `state_machine`: an operation holds the turn.
    pub busy: bool,
    /// `state_machine`: operations waiting for their turn, in arrival order.
    pub waiting: VecDeque<TaskId>,

    // WebRTCService (webrtc_service.dart)
    /// `_connections`: peer -> connection, in insertion order (a Dart `Map` keeps it).
    pub connections: Vec<(Id, P)>,
    /// `onSignalingMessage`.
    pub on_signaling_message: Option<Callback>,
    /// Solution 1's `_signalingCallbacks`, in insertion order.
    pub signaling_callbacks: Vec<(Id, Callback)>,
    /// `_signalingController` is closed (Solution 2, bb400e41).
    pub controller_closed: bool,
    /// `request_map`: request id -> the peer of the negotiation it belongs to.
    pub handlers: BTreeMap<u32, Id>,
    /// `request_map`: the last request id handed out.
    pub next_request: u32,

    // Objects
    /// Every `SignalingClient` made, by creation order ("client#1" is index 0).
    pub clients: Vec<Client>,
    /// Every peer connection made.
    pub pcs: Vec<Pc>,
    /// Every stream subscription made.
    pub subs: Vec<Sub>,
    /// Connections made per peer (for "pc:P1#n").
    pc_counts: BTreeMap<Id, u32>,
    /// Enables started so far (each gets the next number).
    pub enables: u32,
    /// The user's last word on each peer: `true` for connect, `false` for a disconnect
    /// that returned.
    pub wants: BTreeMap<Id, bool>,

    // Not Dart state
    /// What the liveness monitor was last told, per peer (see `invariants::monitor`).
    pub settles_reported: Vec<(Id, bool)>,
}

impl Heap {
    /// A fresh app.
    pub fn new(v: Variant, params: Params, app: Id) -> Self {
        Heap {
            v,
            params,
            app,
            names: Names::placeholder(),
            tracing: false,
            out: Vec::new(),
            tasks: Vec::new(),
            current: 0,
            signaling_client: None,
            pairing_code: false,
            signaling_subscription: None,
            callback_configured: false,
            callback_version: 0,
            events_subscription: None,
            peers: Vec::new(),
            disposing: false,
            disposed: false,
            life: Life::Disabled,
            busy: false,
            waiting: VecDeque::new(),
            connections: Vec::new(),
            on_signaling_message: None,
            signaling_callbacks: Vec::new(),
            controller_closed: false,
            handlers: BTreeMap::new(),
            next_request: 0,
            clients: Vec::new(),
            pcs: Vec::new(),
            subs: Vec::new(),
            pc_counts: BTreeMap::new(),
            enables: 0,
            wants: BTreeMap::new(),
            settles_reported: Vec::new(),
        }
    }

    // ---- the runtime's side -------------------------------------------------------

    /// Park the current task on `wait` (see [`super::dart`]).
    pub fn park(&mut self, wait: Wait) {
        let t = self.current;
        match wait {
            Wait::Io => self.out.push(Out::ArmIo(Wake::Resume(t))),
            Wait::Ticks(n) => self.out.push(Out::Arm(n, Wake::Resume(t))),
            Wait::Platform(pc) => {
                let chain = &mut self.pcs[pc as usize].chain;
                chain.push_back(t);
                if chain.len() == 1 {
                    self.out.push(Out::ArmIo(Wake::Chain(pc)));
                }
            }
            Wait::Turn => self.waiting.push_back(t),
        }
    }

    /// The call at the head of `pc`'s chain completed: the task to resume. The next call
    /// in the chain starts now.
    pub fn chain_done(&mut self, pc: P) -> Option<TaskId> {
        let chain = &mut self.pcs[pc as usize].chain;
        let t = chain.pop_front();
        if !chain.is_empty() {
            self.out.push(Out::ArmIo(Wake::Chain(pc)));
        }
        t
    }

    // ---- effects ------------------------------------------------------------------

    /// Record a trace event.
    pub fn trace(&mut self, kind: EventKind, actor: Id, what: &'static str, other: Id, args: Args) {
        if self.tracing {
            self.out.push(Out::Trace(kind, actor, what, other, args));
        }
    }

    /// A note by the app.
    pub fn note(&mut self, what: &'static str, other: Id) {
        let app = self.app;
        self.trace(EventKind::Note, app, what, other, Args::EMPTY);
    }

    /// Count an event.
    pub fn count(&mut self, name: &'static str) {
        self.out.push(Out::Count(name));
    }

    /// Report a broken invariant.
    pub fn violate(&mut self, invariant: &'static str, detail: String, ids: Vec<Id>) {
        self.out.push(Out::Violate(invariant, detail, ids));
    }

    /// The name of `id`.
    pub fn name(&self, id: Id) -> String {
        self.names.name(id).to_owned()
    }

    // ---- objects --------------------------------------------------------------------

    /// A client.
    pub fn client(&self, c: C) -> &Client {
        &self.clients[c as usize]
    }

    /// A client, to change.
    pub fn client_mut(&mut self, c: C) -> &mut Client {
        &mut self.clients[c as usize]
    }

    /// A connection.
    pub fn pc(&self, p: P) -> &Pc {
        &self.pcs[p as usize]
    }

    /// A connection, to change.
    pub fn pc_mut(&mut self, p: P) -> &mut Pc {
        &mut self.pcs[p as usize]
    }

    /// The connection whose stable id is `id`.
    pub fn pc_by_id(&self, id: Id) -> Option<P> {
        self.pcs.iter().position(|p| p.id == id).map(|i| i as P)
    }

    /// The client whose stable id is `id`.
    pub fn client_by_id(&self, id: Id) -> Option<C> {
        self.clients.iter().position(|c| c.id == id).map(|i| i as C)
    }

    /// `SignalingClient(serverUrl: server, ...)`: a new client object, not connected.
    pub fn new_client(&mut self, server: Id, enable: u32) -> C {
        let n = self.clients.len() + 1;
        let id = self.names.intern(&format!("client#{n}"));
        self.clients.push(Client {
            id,
            server,
            is_connected: false,
            channel: false,
            socket_open: false,
            listening: false,
            controllers_closed: false,
            disposed: false,
            enable,
        });
        (n - 1) as C
    }

    /// A new `RTCPeerConnection` to `peer` (`createPeerConnection`, webrtc_service.dart:259).
    pub fn new_pc(&mut self, peer: Id, session: Option<C>, injected: Option<C>, request: u32) -> P {
        let n = {
            let k = self.pc_counts.entry(peer).or_insert(0);
            *k += 1;
            *k
        };
        let short = self.names.name(peer).trim_start_matches("peer:").to_owned();
        let id = self.names.intern(&format!("pc:{short}#{n}"));
        self.pcs.push(Pc {
            id,
            peer,
            session,
            injected,
            request,
            state: PcState::New,
            closing: false,
            channels: 0,
            local: false,
            remote: false,
            remote_candidate: false,
            fail_pending: false,
            chain: VecDeque::new(),
        });
        let p = (self.pcs.len() - 1) as P;
        let sid = session.map_or(Id::NONE, |c| self.client(c).id);
        self.trace(EventKind::State, id, "new", peer, Args::EMPTY.id("session", sid));
        p
    }

    /// A new subscription.
    pub fn listen(&mut self, on: Source) -> S {
        self.subs.push(Sub { on, cancelled: false });
        (self.subs.len() - 1) as S
    }

    /// `subscription.cancel()`: from now on it delivers nothing.
    pub fn cancel(&mut self, s: S) {
        self.subs[s as usize].cancelled = true;
    }

    /// Live subscriptions to `on`.
    pub fn listeners(&self, on: Source) -> usize {
        self.subs.iter().filter(|s| s.on == on && !s.cancelled).count()
    }

    /// Live subscriptions to the WebRTC service's signaling stream.
    pub fn event_listeners(&self) -> Vec<Source> {
        self.subs
            .iter()
            .filter(|s| !s.cancelled && matches!(s.on, Source::EventsToCurrentClient | Source::EventsToSignalingState))
            .map(|s| s.on)
            .collect()
    }

    /// `_connections[peer]`.
    pub fn connection(&self, peer: Id) -> Option<P> {
        self.connections.iter().find(|(q, _)| *q == peer).map(|(_, p)| *p)
    }

    /// Whether `p` is in `_connections`.
    pub fn in_connections(&self, p: P) -> bool {
        self.connections.iter().any(|(_, q)| *q == p)
    }

    /// `_signalingClient != null && _signalingClient!.isConnected`.
    pub fn current_connected(&self) -> Option<C> {
        self.signaling_client.filter(|&c| self.client(c).is_connected)
    }

    /// Move connection `p` to `to`, recording the transition (and the platform's
    /// `onConnectionState`, which updates the peer's UI state, webrtc_service.dart:285-303).
    pub fn set_pc_state(&mut self, p: P, to: PcState) {
        let (id, peer, from) = {
            let pc = self.pc(p);
            (pc.id, pc.peer, pc.state)
        };
        if from == to {
            return;
        }
        self.pc_mut(p).state = to;
        if !from.can_go(to) {
            let detail = format!("{} went {} -> {}", self.name(id), from.name(), to.name());
            self.violate(inv::TRANSITIONS, detail, vec![id]);
        }
        self.trace(EventKind::State, id, to.name(), peer, Args::EMPTY.s("from", from.name()));
        // `onConnectionState` (webrtc_service.dart:285-303) -> `_updatePeerState`
        // (connection_manager.dart:244-246). `close()` fires no state event.
        let ui = match to {
            PcState::Connecting => Some(PeerUi::Connecting),
            PcState::Connected => Some(PeerUi::Connected),
            PcState::Disconnected | PcState::Failed => Some(PeerUi::Failed),
            PcState::New | PcState::Closed => None,
        };
        if let Some(ui) = ui {
            self.update_peer_state(peer, ui);
        }
    }

    /// `_updatePeerState(peerId, state)` (connection_manager.dart:332-345): only a peer
    /// in `_peers` changes.
    pub fn update_peer_state(&mut self, peer: Id, ui: PeerUi) {
        if let Some(e) = self.peers.iter_mut().find(|(q, _)| *q == peer)
            && e.1 != ui
        {
            e.1 = ui;
            let app = self.app;
            self.trace(EventKind::State, app, ui.name(), peer, Args::EMPTY);
        }
    }

    // ---- the socket ---------------------------------------------------------------

    /// `client._send(message)` (signaling_client.dart:170-173): nothing happens unless the
    /// client is connected. Candidates are checked against the invariants as they leave.
    pub fn ws_send(&mut self, c: C, kind: SigKind, peer: Id, pc: Option<P>) {
        let cl = self.client(c).clone();
        let pc_id = pc.map_or(Id::NONE, |p| self.pc(p).id);
        if !cl.is_connected || !cl.channel {
            self.count("signaling.sends_skipped_not_connected");
            self.trace(
                EventKind::Note,
                cl.id,
                "send_skipped",
                peer,
                Args::EMPTY.s("kind", kind.name()).id("pc", pc_id),
            );
            return;
        }
        if let Some(p) = pc
            && kind == SigKind::Candidate
        {
            self.check_candidate(c, p, peer);
        }
        if cl.disposed {
            let detail = format!("{} sent through {} after it was disposed", kind.name(), self.name(cl.id));
            self.violate(inv::NO_SEND_ON_DISPOSED, detail, vec![cl.id, pc_id]);
        }
        self.out.push(Out::Send(Signal { from: cl.id, to: cl.server, kind, peer, code: cl.id, pc: pc_id }));
    }

    fn check_candidate(&mut self, c: C, p: P, target: Id) {
        let pc = self.pc(p).clone();
        let cid = self.client(c).id;
        if pc.session != Some(c) {
            let started = pc.session.map_or("no client".to_owned(), |s| self.name(self.client(s).id));
            let detail = format!(
                "candidate of {} (negotiated through {started}) sent through {}",
                self.name(pc.id),
                self.name(cid)
            );
            self.violate(inv::OWN_SESSION, detail, vec![pc.id, cid]);
        }
        if target != pc.peer {
            let detail = format!(
                "candidate of {} (peer {}) addressed to {}",
                self.name(pc.id),
                self.name(pc.peer),
                self.name(target)
            );
            self.violate(inv::ROUTED, detail, vec![pc.id, target]);
        }
        if !self.in_connections(p) {
            let detail = format!(
                "candidate of {} sent through {} after closeConnection removed it from _connections",
                self.name(pc.id),
                self.name(cid)
            );
            self.violate(inv::REMOVED, detail, vec![pc.id, cid]);
        }
    }
}
