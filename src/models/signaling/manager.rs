//! `ConnectionManager` (packages/app/lib/core/network/connection_manager.dart). Line
//! numbers `:N` cite `4af3c998`, the code seed 004 quotes; "bb400e41" cites the fix that
//! shipped; "Solution N" quotes seed 004's proposals.
//!
//! Each Dart method is one `async fn`; its awaits are the `.await`s. The seed's methods are
//! written once, and a variant that changes a statement of one says so where the statement
//! is. bb400e41 rewrote `enableExternalConnections`, `disableExternalConnections`,
//! `_startWebRTCConnection` and `dispose`, so those are separate functions here
//! (`*_shipped`); `state_machine` wraps the seed's methods in its lifecycle gate.

use super::Variant;
use super::client::{self, Thrown};
use super::dart::{Dart, micro, turn};
use super::heap::{C, Callback, Heap, Life, Out, PeerUi, Source};
use super::invariants as inv;
use super::signal::{SigKind, Signal, Wake};
use super::webrtc::{self, Bind};
use crate::engine::Id;
use crate::engine::trace::{Args, EventKind};

// ---- the public methods, as the scripted steps call them ------------------------------

/// `enableExternalConnections(serverUrl: server)`.
pub async fn enable_external_connections(d: &Dart, server: Id) -> Result<(), Thrown> {
    match d.with(|h| h.v) {
        Variant::ShippedStream => enable_shipped(d, server).await,
        Variant::StateMachine => {
            gated(d, async {
                // Only valid transitions: an enable while enabled goes through disabling.
                if d.with(|h| h.life == Life::Enabled) {
                    disable(d).await?;
                    d.with(|h| h.life = Life::Disabled);
                }
                if d.with(|h| h.life == Life::Disposed) {
                    return Err(Thrown::NotConnected);
                }
                let r = enable(d, server).await;
                if r.is_ok() {
                    d.with(|h| h.life = Life::Enabled);
                }
                r
            })
            .await
        }
        _ => enable(d, server).await,
    }
}

/// `disableExternalConnections()`.
pub async fn disable_external_connections(d: &Dart) -> Result<(), Thrown> {
    match d.with(|h| h.v) {
        Variant::ShippedStream => disable_shipped(d).await,
        Variant::StateMachine => {
            gated(d, async {
                if d.with(|h| h.life != Life::Enabled) {
                    return Ok(());
                }
                let r = disable(d).await;
                d.with(|h| h.life = Life::Disabled);
                r
            })
            .await
        }
        _ => disable(d).await,
    }
}

/// `dispose()`.
pub async fn dispose(d: &Dart) -> Result<(), Thrown> {
    match d.with(|h| h.v) {
        Variant::ShippedStream => dispose_shipped(d).await,
        Variant::StateMachine => {
            gated(d, async {
                let r = dispose_seed(d).await;
                d.with(|h| h.life = Life::Disposed);
                r
            })
            .await
        }
        _ => dispose_seed(d).await,
    }
}

/// `connectToExternalPeer(pairingCode)` (:120-138; bb400e41 reads the same through
/// `_signalingState`). It has no await: it only asks the server to pair.
pub async fn connect_to_external_peer(d: &Dart, peer: Id) -> Result<(), Thrown> {
    if d.with(|h| h.v == Variant::StateMachine) {
        return gated(d, async { connect_now(d, peer) }).await;
    }
    connect_now(d, peer)
}

fn connect_now(d: &Dart, peer: Id) -> Result<(), Thrown> {
    d.with(|h| {
        // :121-123 `if (_signalingClient == null || !_signalingClient!.isConnected) throw`
        let Some(c) = h.current_connected() else {
            return Err(Thrown::NotConnected);
        };
        // :126-134 `_peers[pairingCode] = Peer(connectionState: connecting, ...)`
        match h.peers.iter_mut().find(|(q, _)| *q == peer) {
            Some(e) => e.1 = PeerUi::Connecting,
            None => h.peers.push((peer, PeerUi::Connecting)),
        }
        let app = h.app;
        h.trace(EventKind::State, app, PeerUi::Connecting.name(), peer, Args::EMPTY);
        h.wants.insert(peer, true);
        // :137 `_signalingClient!.requestPairing(pairingCode);`
        h.ws_send(c, SigKind::PairRequest, peer, None);
        Ok(())
    })
}

/// `disconnectPeer(peerId)` (:199-202; Solution 1 unregisters the callback first).
pub async fn disconnect_peer(d: &Dart, peer: Id) -> Result<(), Thrown> {
    if d.with(|h| h.v == Variant::PerPeerMap) {
        // Solution 1: `_webrtcService.unregisterSignalingCallback(peerId);`
        d.with(|h| h.signaling_callbacks.retain(|(q, _)| *q != peer));
    }
    // :200 `await _webrtcService.closeConnection(peerId);`
    webrtc::close_connection(d, peer).await;
    // :201 `_updatePeerState(peerId, PeerConnectionState.disconnected);`
    d.with(|h| {
        h.update_peer_state(peer, PeerUi::Disconnected);
        h.wants.insert(peer, false);
    });
    Ok(())
}

// ---- the seed's code (4af3c998), with the proposed solutions' changes ------------------

/// `enableExternalConnections` (:84-106).
async fn enable(d: &Dart, server: Id) -> Result<(), Thrown> {
    let me = d.with(|h| {
        h.enables += 1;
        h.enables
    });
    // :89 `await _signalingSubscription?.cancel();`
    d.with(|h| {
        if let Some(s) = h.signaling_subscription {
            h.cancel(s);
        }
    });
    micro(d).await;
    let c = d.with(|h| {
        // :90 `_signalingSubscription = null;`
        h.signaling_subscription = None;
        // :92-98 `_externalPairingCode = ...; _signalingClient = SignalingClient(...);`
        // The previous client, if any, is neither disconnected nor disposed.
        let c = h.new_client(server, me);
        if let Some(old) = h.signaling_client.filter(|&o| h.client(o).socket_open) {
            let old = h.client(old).id;
            h.note("previous_client_left_open", old);
        }
        h.signaling_client = Some(c);
        h.pairing_code = true;
        // :100-101 `_signalingSubscription = _signalingClient!.messages.listen(_handleSignalingMessage);`
        let s = h.listen(Source::ClientMessages(c));
        h.signaling_subscription = Some(s);
        if h.v == Variant::Stream {
            // Solution 2: `_signalingMessageSubscription = _webrtcService.signalingMessages
            // .listen(...)`, after "existing code", before "rest of code". A subscription
            // already in the field is overwritten, not cancelled.
            if let Some(prev) = h.events_subscription
                && !h.subs[prev as usize].cancelled
            {
                h.note("signaling_message_subscription_overwritten", Id::NONE);
            }
            let s = h.listen(Source::EventsToCurrentClient);
            h.events_subscription = Some(s);
        }
        c
    });
    // :103 `await _signalingClient!.connect();` (the field is read before the call)
    client::connect(d, c).await?;
    // :105 `return _externalPairingCode!;`: null if an overlapping disable ran meanwhile.
    if !d.with(|h| h.pairing_code) {
        return Err(Thrown::NullCheck);
    }
    Ok(())
}

/// `disableExternalConnections` (:109-116).
async fn disable(d: &Dart) -> Result<(), Thrown> {
    let seen = d.with(|h| h.enables);
    match d.with(|h| h.v) {
        // Solution 3: `_callbackVersion++; // Invalidate existing callbacks`, first.
        Variant::VersionToken => d.with(|h| h.callback_version += 1),
        // Solution 2: `await _signalingMessageSubscription?.cancel();
        // _signalingMessageSubscription = null;`, first.
        Variant::Stream => {
            d.with(|h| {
                if let Some(s) = h.events_subscription {
                    h.cancel(s);
                }
            });
            micro(d).await;
            d.with(|h| h.events_subscription = None);
        }
        _ => {}
    }
    // :110 `await _signalingClient?.disconnect();`
    match d.with(|h| h.signaling_client) {
        Some(c) => client::disconnect(d, c).await?,
        None => micro(d).await,
    }
    // :111 `await _signalingSubscription?.cancel();`: the field, read now (an overlapping
    // enable may have put its own subscription there).
    d.with(|h| {
        if let Some(s) = h.signaling_subscription {
            h.cancel(s);
        }
    });
    micro(d).await;
    d.with(|h| {
        // :112-115, synchronous: nothing runs between them.
        h.signaling_subscription = None;
        drop_client(h, seen, "disableExternalConnections");
        h.pairing_code = false;
        h.callback_configured = false;
    });
    Ok(())
}

/// `_signalingClient = null` (bb400e41: `_signalingState = SignalingDisconnected()`) by a
/// disable that had seen `seen` enables start: nulling a client a later enable set loses it.
fn drop_client(h: &mut Heap, seen: u32, by: &'static str) {
    if let Some(c) = h.signaling_client.take() {
        let cl = h.client(c).clone();
        if cl.enable > seen {
            let detail = format!(
                "{by} started before the enable that made {} and set the field to null after it",
                h.name(cl.id)
            );
            h.violate(inv::ENABLE_KEEPS, detail, vec![cl.id]);
        }
        let app = h.app;
        h.trace(EventKind::State, app, "signaling_client_null", cl.id, Args::EMPTY);
    }
}

/// `_startWebRTCConnection(peerCode, peerPublicKey, isInitiator: true)` (:152-166).
async fn start_webrtc_connection(d: &Dart, via: C, peer: Id) -> Result<(), Thrown> {
    if d.with(|h| h.v == Variant::ShippedStream) {
        return start_webrtc_shipped(d, via, peer).await;
    }
    // :154 `_cryptoService.setPeerPublicKey(...)` (not modelled)
    let bind = d.with(|h| {
        let mut bind = Bind { session: Some(via), ..Bind::default() };
        match h.v {
            // Solution 1: `_webrtcService.registerSignalingCallback(peerCode, (message) {...})`
            // instead of :158.
            Variant::PerPeerMap => {
                match h.signaling_callbacks.iter_mut().find(|(q, _)| *q == peer) {
                    Some(e) => e.1 = Callback::PerPeer(peer),
                    None => h.signaling_callbacks.push((peer, Callback::PerPeer(peer))),
                }
                let app = h.app;
                h.trace(EventKind::Call, app, "register_callback", peer, Args::EMPTY);
            }
            // Signal's fix: the client is handed to the connection (`_signalingClient!`).
            Variant::InjectedClient => match h.signaling_client {
                Some(c) => bind.injected = Some(c),
                None => return Err(Thrown::NullCheck),
            },
            // Telegram's pattern: a new request id, its handler registered under it.
            Variant::RequestMap => {
                h.next_request += 1;
                let r = h.next_request;
                h.handlers.insert(r, peer);
                bind.request = r;
                let app = h.app;
                h.trace(EventKind::Call, app, "register_handler", peer, Args::EMPTY.u("request", u64::from(r)));
            }
            // :158 `_configureSignalingCallback();` (Solution 2 keeps the call: it sets a
            // callback its onIceCandidate no longer calls).
            _ => configure_signaling_callback(h),
        }
        Ok(bind)
    })?;
    // :162 `final offer = await _webrtcService.createOffer(peerCode);`
    let p = webrtc::create_offer(d, peer, bind).await?;
    d.with(|h| {
        let c = match h.v {
            Variant::InjectedClient => h.pc(p).injected,
            // :163 `_signalingClient!.sendOffer(peerCode, offer);`
            _ => h.signaling_client,
        };
        let Some(c) = c else { return Err(Thrown::NullCheck) };
        h.ws_send(c, SigKind::Offer, peer, Some(p));
        Ok(())
    })
}

/// `_configureSignalingCallback()` (:170-181; Solution 3 captures version and client).
fn configure_signaling_callback(h: &mut Heap) {
    // :171-172
    if h.callback_configured {
        return;
    }
    h.callback_configured = true;
    // :174 `_webrtcService.onSignalingMessage = (targetPeerId, message) {...}`
    let cb = match h.v {
        // Solution 3: `final capturedVersion = ++_callbackVersion; final capturedClient = _signalingClient;`
        Variant::VersionToken => {
            h.callback_version += 1;
            Callback::Versioned { version: h.callback_version, client: h.signaling_client }
        }
        _ => Callback::ReadsCurrent,
    };
    h.on_signaling_message = Some(cb);
    let (app, client) = (h.app, h.signaling_client.map_or(Id::NONE, |c| h.client(c).id));
    h.trace(
        EventKind::Call,
        app,
        "configure_callback",
        client,
        Args::EMPTY.u("version", u64::from(h.callback_version)),
    );
}

/// `dispose()` (:211-223).
async fn dispose_seed(d: &Dart) -> Result<(), Thrown> {
    d.with(|h| h.disposing = true);
    // :212 `await _signalingSubscription?.cancel();`
    d.with(|h| {
        if let Some(s) = h.signaling_subscription {
            h.cancel(s);
        }
    });
    micro(d).await;
    // :213-214 `_signalingSubscription = null; _signalingCallbackConfigured = false;`
    // (`onSignalingMessage` itself is never cleared.)
    d.with(|h| {
        h.signaling_subscription = None;
        h.callback_configured = false;
    });
    // :215 `await _webrtcService.dispose();`
    if d.with(|h| h.v == Variant::DisposeUnawaited) {
        // Seed 004, Scenario 2 step 4 reads it as "called asynchronously": started, not awaited.
        let d2 = *d;
        d.spawn(async move { webrtc::dispose(&d2).await });
    } else {
        webrtc::dispose(d).await;
    }
    // :216 `await _signalingClient?.dispose();`: the field is not nulled afterwards.
    match d.with(|h| h.signaling_client) {
        Some(c) => client::dispose(d, c).await?,
        None => micro(d).await,
    }
    // :217-222 the manager's own broadcast controllers close (microtasks).
    micro(d).await;
    d.with(|h| h.disposed = true);
    Ok(())
}

// ---- bb400e41: the fix that shipped ---------------------------------------------------

/// bb400e41 `enableExternalConnections`.
async fn enable_shipped(d: &Dart, server: Id) -> Result<(), Thrown> {
    let me = d.with(|h| {
        h.enables += 1;
        h.enables
    });
    // `await _signalingSubscription?.cancel(); _signalingSubscription = null;`
    d.with(|h| {
        if let Some(s) = h.signaling_subscription.take() {
            h.cancel(s);
        }
    });
    micro(d).await;
    // `await _signalingEventsSubscription?.cancel(); _signalingEventsSubscription = null;`
    d.with(|h| {
        if let Some(s) = h.events_subscription.take() {
            h.cancel(s);
        }
    });
    micro(d).await;
    let c = d.with(|h| {
        // `final client = SignalingClient(...);` (the previous one is left as it is)
        let c = h.new_client(server, me);
        if let Some(old) = h.signaling_client.filter(|&o| h.client(o).socket_open) {
            let old = h.client(old).id;
            h.note("previous_client_left_open", old);
        }
        // `_signalingState = SignalingConnected(client: client, pairingCode: code);`
        h.signaling_client = Some(c);
        h.pairing_code = true;
        // `_signalingSubscription = client.messages.listen(_handleSignalingMessage);`
        let s = h.listen(Source::ClientMessages(c));
        h.signaling_subscription = Some(s);
        // `_signalingEventsSubscription = _webrtcService.signalingEvents.listen((event) {
        //   final state = _signalingState;
        //   if (state is! SignalingConnected || !state.client.isConnected) return; ... })`
        let s = h.listen(Source::EventsToSignalingState);
        h.events_subscription = Some(s);
        c
    });
    // `await client.connect(); return code;` (a local: nothing can null it)
    client::connect(d, c).await
}

/// bb400e41 `disableExternalConnections`.
async fn disable_shipped(d: &Dart) -> Result<(), Thrown> {
    let seen = d.with(|h| h.enables);
    // `await _signalingEventsSubscription?.cancel(); _signalingEventsSubscription = null;`
    d.with(|h| {
        if let Some(s) = h.events_subscription {
            h.cancel(s);
        }
    });
    micro(d).await;
    d.with(|h| h.events_subscription = None);
    // `await _signalingSubscription?.cancel(); _signalingSubscription = null;`
    d.with(|h| {
        if let Some(s) = h.signaling_subscription {
            h.cancel(s);
        }
    });
    micro(d).await;
    d.with(|h| h.signaling_subscription = None);
    // `final state = _signalingState; if (state is SignalingConnected) await state.client.dispose();`
    if let Some(c) = d.with(|h| h.signaling_client) {
        client::dispose(d, c).await?;
    }
    // `_signalingState = SignalingDisconnected();`: whatever an overlapping enable set.
    d.with(|h| {
        drop_client(h, seen, "disableExternalConnections");
        h.pairing_code = false;
    });
    Ok(())
}

/// bb400e41 `_startWebRTCConnection`.
async fn start_webrtc_shipped(d: &Dart, via: C, peer: Id) -> Result<(), Thrown> {
    // "Pattern 1: Capture signaling client before async operations":
    // `if (state is! SignalingConnected || !state.client.isConnected) { failed; return; }`
    let Some(client) = d.with(|h| h.current_connected()) else {
        d.with(|h| h.update_peer_state(peer, PeerUi::Failed));
        return Ok(());
    };
    let bind = Bind { session: Some(via), ..Bind::default() };
    // `try { final offer = await _webrtcService.createOffer(peerCode); ...`
    match webrtc::create_offer(d, peer, bind).await {
        Ok(p) => {
            d.with(|h| {
                // `if (client.isConnected) client.sendOffer(...) else _updatePeerState(failed)`
                if h.client(client).is_connected {
                    h.ws_send(client, SigKind::Offer, peer, Some(p));
                } else {
                    h.update_peer_state(peer, PeerUi::Failed);
                }
            });
            Ok(())
        }
        // `catch (e) { _updatePeerState(peerCode, failed); rethrow; }`
        Err(e) => {
            d.with(|h| h.update_peer_state(peer, PeerUi::Failed));
            Err(e)
        }
    }
}

/// bb400e41 `dispose()`.
async fn dispose_shipped(d: &Dart) -> Result<(), Thrown> {
    d.with(|h| h.disposing = true);
    // `await _signalingEventsSubscription?.cancel(); ... = null;`
    d.with(|h| {
        if let Some(s) = h.events_subscription.take() {
            h.cancel(s);
        }
    });
    micro(d).await;
    // `await _signalingSubscription?.cancel(); ... = null;`
    d.with(|h| {
        if let Some(s) = h.signaling_subscription.take() {
            h.cancel(s);
        }
    });
    micro(d).await;
    // `await _webrtcService.dispose();` (closes the connections, then `_signalingController`)
    webrtc::dispose(d).await;
    // `if (state is SignalingConnected) await state.client.dispose();`
    if let Some(c) = d.with(|h| h.signaling_client) {
        client::dispose(d, c).await?;
    }
    // `_signalingState = SignalingDisconnected();` then the controllers close.
    d.with(|h| {
        h.signaling_client = None;
        h.pairing_code = false;
    });
    micro(d).await;
    d.with(|h| h.disposed = true);
    Ok(())
}

// ---- shared by every variant ------------------------------------------------------------

/// `_handleSignalingMessage(message)` (:249-330), `async void`: called by the client's
/// message stream for each message; `via` is the client it came through.
pub async fn handle_signaling_message(d: &Dart, via: C, msg: Signal) -> Result<(), Thrown> {
    match msg.kind {
        // :256-269
        SigKind::PairMatched => {
            d.with(|h| {
                if !h.peers.iter().any(|(q, _)| *q == msg.peer) {
                    h.peers.push((msg.peer, PeerUi::Connecting));
                }
            });
            // :268 `await _startWebRTCConnection(peerCode, peerPublicKey, isInitiator);`
            start_webrtc_connection(d, via, msg.peer).await
        }
        // :310-312 `await _webrtcService.handleAnswer(from, payload);`
        SigKind::Answer => webrtc::handle_answer(d, msg.peer, msg.pc).await,
        // :314-316 `await _webrtcService.addIceCandidate(from, payload);`
        SigKind::RemoteCandidate => webrtc::add_ice_candidate(d, msg.peer, msg.pc).await,
        // :285-287 `SignalingPairError`, :326-328 `SignalingError`: nothing happens; the
        // peer stays `connecting`.
        _ => {
            d.with(|h| h.note("signaling_error_ignored", msg.peer));
            Ok(())
        }
    }
}

/// `state_machine`: lifecycle operations run one at a time; one that arrives while another
/// is in progress (a transition) is buffered and runs when it has finished, one tick later.
async fn gated<T>(d: &Dart, op: impl std::future::Future<Output = Result<T, Thrown>>) -> Result<T, Thrown> {
    let wait = d.with(|h| {
        if h.busy {
            true
        } else {
            h.busy = true;
            false
        }
    });
    if wait {
        d.with(|h| h.note("operation_buffered", Id::NONE));
        turn(d).await;
    }
    let r = op.await;
    d.with(|h| match h.waiting.pop_front() {
        // The turn passes straight to the next buffered operation.
        Some(t) => h.out.push(Out::Arm(1, Wake::Resume(t))),
        None => h.busy = false,
    });
    r
}
