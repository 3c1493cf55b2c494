//! `SignalingClient` (packages/app/lib/core/network/signaling_client.dart at `4af3c998`; the
//! methods modelled here are the same at `bb400e41`). Line numbers cite `4af3c998`.
//!
//! The heartbeat (`_startHeartbeat`, a 30 s ping) and the connection-state stream are not
//! modelled: nothing in the manager listens to either.

use super::dart::{Dart, io, micro};
use super::heap::C;
use super::manager;
use super::signal::{SigKind, Signal};
use crate::engine::Id;
use crate::engine::trace::{Args, EventKind};

/// An exception a Dart method threw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Thrown {
    /// `x!` on a null value.
    NullCheck,
    /// `ConnectionException('Not connected to signaling server')`.
    NotConnected,
    /// `WebRTCException('No connection found for peer')`.
    NoConnection,
    /// A platform call on a closed `RTCPeerConnection` (`InvalidStateError`).
    ClosedConnection,
    /// `addCandidate` before the remote description was set.
    NoRemoteDescription,
    /// `StreamController.add` after `close()` (`Bad state`).
    AddAfterClose,
    /// An answer or candidate of another negotiation (its ICE credentials and DTLS
    /// fingerprint do not match the connection's).
    WrongNegotiation,
}

impl Thrown {
    /// The name used in traces.
    pub fn name(self) -> &'static str {
        match self {
            Thrown::NullCheck => "null_check",
            Thrown::NotConnected => "not_connected",
            Thrown::NoConnection => "no_connection_for_peer",
            Thrown::ClosedConnection => "connection_closed",
            Thrown::NoRemoteDescription => "no_remote_description",
            Thrown::AddAfterClose => "add_after_close",
            Thrown::WrongNegotiation => "wrong_negotiation",
        }
    }
}

/// `connect()` (:53-87).
pub async fn connect(d: &Dart, c: C) -> Result<(), Thrown> {
    // :54 `if (_isConnected) return;`
    if d.with(|h| h.client(c).is_connected) {
        return Ok(());
    }
    // :57-59 `_channel = WebSocketChannel.connect(Uri.parse(serverUrl));`
    d.with(|h| {
        h.client_mut(c).channel = true;
        let (id, server) = (h.client(c).id, h.client(c).server);
        h.trace(EventKind::State, id, "connecting", server, Args::EMPTY);
    });
    // :61 `await _channel!.ready;` (the WebSocket handshake)
    io(d).await;
    // :63 `_channel!.stream.listen(...)`: `_cleanupConnection()` may have nulled `_channel`
    // meanwhile; the null check throws into the catch at :81.
    if !d.with(|h| h.client(c).channel) {
        // :81-85 `await _cleanupConnection(); ... rethrow;`
        cleanup_connection(d, c).await;
        d.with(|h| {
            let id = h.client(c).id;
            h.trace(EventKind::Note, id, "connect_failed", Id::NONE, Args::EMPTY.s("threw", Thrown::NullCheck.name()));
        });
        return Err(Thrown::NullCheck);
    }
    d.with(|h| {
        let cl = h.client_mut(c);
        // :63-69 listen, `_isConnected = true`
        cl.socket_open = true;
        cl.listening = true;
        cl.is_connected = true;
        let id = cl.id;
        h.trace(EventKind::State, id, "connected", Id::NONE, Args::EMPTY);
        // :73-77 `_send({'type': 'register', ...})`
        h.ws_send(c, SigKind::Register, Id::NONE, None);
    });
    Ok(())
}

/// `disconnect()` (:90-93).
pub async fn disconnect(d: &Dart, c: C) -> Result<(), Thrown> {
    cleanup_connection(d, c).await;
    // :92 `_connectionStateController.add(...)` throws once `dispose()` closed it.
    if d.with(|h| h.client(c).controllers_closed) {
        return Err(Thrown::AddAfterClose);
    }
    Ok(())
}

/// `_cleanupConnection()` (:96-107).
pub async fn cleanup_connection(d: &Dart, c: C) {
    d.with(|h| {
        let cl = h.client_mut(c);
        // :97-98 `_stopHeartbeat(); _isConnected = false;`: before the first await, so from
        // the moment `disconnect()` or `dispose()` is called, `_send` sends nothing.
        let was = cl.is_connected;
        cl.is_connected = false;
        // :100-101 `_subscription = null`: no further message reaches `_handleMessage`.
        cl.listening = false;
        if was {
            let id = cl.id;
            h.trace(EventKind::State, id, "disconnected", Id::NONE, Args::EMPTY);
        }
    });
    // :102 `await subscription?.cancel();` (completes at once)
    micro(d).await;
    // :104-106 `_channel = null; await channel?.sink.close();`
    let had_channel = d.with(|h| {
        let cl = h.client_mut(c);
        let had = std::mem::replace(&mut cl.channel, false);
        let open = std::mem::replace(&mut cl.socket_open, false);
        if open {
            // The close frame tells the server to forget the client's pairing code.
            let (id, server) = (cl.id, cl.server);
            h.out.push(super::heap::Out::Send(Signal {
                from: id,
                to: server,
                kind: SigKind::Close,
                peer: Id::NONE,
                code: id,
                pc: Id::NONE,
            }));
        }
        had
    });
    if had_channel {
        io(d).await;
    } else {
        micro(d).await;
    }
}

/// `dispose()` (:162-166).
pub async fn dispose(d: &Dart, c: C) -> Result<(), Thrown> {
    d.with(|h| {
        h.client_mut(c).disposed = true;
        let id = h.client(c).id;
        h.trace(EventKind::State, id, "disposed", Id::NONE, Args::EMPTY);
    });
    // :163 `await disconnect();`
    let r = disconnect(d, c).await;
    // :164-165 `await _messageController.close(); await _connectionStateController.close();`
    d.with(|h| h.client_mut(c).controllers_closed = true);
    micro(d).await;
    r
}

/// A message from the server reached client `c`'s socket: `_handleMessage` (:175-261)
/// adds it to `_messageController`, a broadcast stream, which hands it to each live
/// subscription in a microtask (here: at once, see [`super::dart`]).
pub fn on_message(d: &Dart, c: C, msg: Signal) {
    let listeners = d.with(|h| {
        let cl = h.client(c).clone();
        if !cl.listening {
            // `_subscription` was cancelled (or never made): the socket's data goes nowhere.
            h.count("signaling.messages_unheard");
            h.trace(EventKind::Note, cl.id, "message_unheard", msg.peer, Args::EMPTY.s("kind", msg.kind.name()));
            return 0;
        }
        if cl.controllers_closed {
            // `add` after `close()` throws; the try/catch at :258 swallows it.
            h.count("signaling.messages_unheard");
            return 0;
        }
        let n = h.listeners(super::heap::Source::ClientMessages(c));
        if n == 0 {
            h.count("signaling.messages_unheard");
            h.trace(EventKind::Note, cl.id, "message_unheard", msg.peer, Args::EMPTY.s("kind", msg.kind.name()));
        }
        n
    });
    for _ in 0..listeners {
        // `_handleSignalingMessage` is `async void`: nobody awaits it, and what it throws
        // is an unhandled error (reported, not fatal).
        let d2 = *d;
        d.spawn(async move {
            if let Err(e) = manager::handle_signaling_message(&d2, c, msg).await {
                d2.with(|h| {
                    h.count("signaling.unhandled_errors");
                    let app = h.app;
                    h.trace(EventKind::Note, app, "unhandled_error", msg.peer, Args::EMPTY.s("threw", e.name()));
                });
            }
        });
    }
}
