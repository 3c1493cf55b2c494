//! Behaviour: the client's methods, the sockets' callbacks and the server, as systems that
//! read the tick's events (steps, frames, timers) and change components.
//!
//! The client is modelled statement by statement on this JavaScript:
//!
//! ```js
//! connect() {
//!   const ws = new WebSocket(url);
//!   ws.onopen = () => { this.connected = true; };
//!   ws.onclose = () => { this.socket = null; this.connected = false; };  // `bug`
//!   this.socket = ws;
//! }
//! reconnect() {
//!   this.connected = false;
//!   this.socket.close();               // completes later: then its onclose runs
//!   setTimeout(() => this.connect(), backoff);
//! }
//! send(m) { this.queue.push(m); }      // flushed once per turn while connected
//! ```

use crate::components::{Cast, Client, ServerLog, Socket, SocketState};
use crate::config::Params;
use crate::messages::{Action, Backoff, Call, Frame, FrameKind};
use crate::variant::{Fix, Variant};
// The derive below expands to paths starting `bevy_ecs::`: this brings racelab's into scope.
use racelab::prelude::*;

/// What the client's methods use besides the client and its sockets: new sockets, the wire,
/// the fixed actors and the engine.
#[derive(SystemParam)]
pub struct Net<'w, 's> {
    commands: Commands<'w, 's>,
    wire: MessageWriter<'w, Outbound<Frame>>,
    cast: Res<'w, Cast>,
    cx: SimCtx<'w>,
}

/// Setup, at the start of every run: the engine has cleared every entity, so the client is
/// spawned again; its `Id` component puts it in the engine's id index.
pub fn spawn_client(mut commands: Commands, cast: Res<Cast>) {
    commands.spawn((cast.client, Client::default()));
}

/// The app's calls, as the script hands them over.
pub fn app_calls(
    mut acts: MessageReader<Act<Action>>,
    mut clients: Query<&mut Client>,
    mut sockets: Query<&mut Socket>,
    mut timers: ResMut<Timers<Backoff>>,
    (fix, params): (Res<Fix>, Res<Params>),
    mut net: Net,
) {
    for Act { action, .. } in acts.read() {
        let Some(mut client) = net.cx.entity(action.client).and_then(|e| clients.get_mut(e).ok()) else {
            continue;
        };
        match action.call {
            Call::Connect => connect(action.client, &mut client, &mut net),
            Call::Reconnect => {
                reconnect(action.client, &mut client, &mut sockets, &mut net, fix.0);
                // setTimeout(() => this.connect(), backoff): the tape picks the backoff.
                let delay = net.cx.tape.range("sockets.backoff", params.backoff.0, params.backoff.1);
                timers.after(net.cx.now(), delay, Backoff { client: action.client });
                net.cx.trace(EventKind::Call, action.client, "set_timeout", Id::NONE, Args::EMPTY.u("delay", delay));
            }
            Call::Send(message) => {
                client.outbox.push(message);
                client.sent.push(message);
            }
        }
    }
}

/// The reconnect's timer fires: `this.connect()`.
pub fn backoff_fired(mut fired: MessageReader<Fired<Backoff>>, mut clients: Query<&mut Client>, mut net: Net) {
    for Fired(backoff) in fired.read() {
        if let Some(mut client) = net.cx.entity(backoff.client).and_then(|e| clients.get_mut(e).ok()) {
            connect(backoff.client, &mut client, &mut net);
        }
    }
}

/// `connect()`: a new socket, current at once, its opening handshake on the wire.
fn connect(client_id: Id, client: &mut Client, net: &mut Net) {
    client.opened += 1;
    // One client per scenario, so the socket's number alone names it.
    let socket = net.cx.intern(&format!("socket#{}", client.opened));
    net.commands.spawn((socket, Socket { client: client_id, state: SocketState::Connecting, handlers: true }));
    net.cx.trace(EventKind::State, socket, SocketState::Connecting.name(), client_id, Args::EMPTY);
    client.current = Some(socket);
    client.wanted = true;
    net.cx.trace(EventKind::State, client_id, "connecting", socket, Args::EMPTY.id("socket", socket));
    net.wire.write(Outbound(Frame { from: socket, to: net.cast.server, kind: FrameKind::Open }));
}

/// `reconnect()`: the app hears "disconnected" at once; the current socket starts closing
/// (its handlers detached first in `detach`). `this.socket` still names the old socket:
/// its `onclose`, whenever the close completes, is what clears it.
fn reconnect(client_id: Id, client: &mut Client, sockets: &mut Query<&mut Socket>, net: &mut Net, fix: Variant) {
    client.connected = false;
    net.cx.trace(EventKind::State, client_id, "disconnected", Id::NONE, Args::EMPTY);
    let Some(old) = client.current else { return };
    let Some(mut socket) = net.cx.entity(old).and_then(|e| sockets.get_mut(e).ok()) else { return };
    if fix.detaches_before_close() {
        socket.handlers = false;
        net.cx.trace(EventKind::Call, old, "detach_handlers", client_id, Args::EMPTY);
    }
    // close() on a socket already closing or closed does nothing, as in a browser.
    if matches!(socket.state, SocketState::Connecting | SocketState::Open) {
        set_state(&mut net.cx, old, &mut socket, SocketState::Closing);
        net.wire.write(Outbound(Frame { from: old, to: net.cast.server, kind: FrameKind::Close }));
    }
}

/// The sockets' side of the wire: the handshake's answer opens a socket, the server's Close
/// frame completes its close; then the socket's handler runs, if it is still attached.
pub fn socket_events(
    mut frames: MessageReader<Inbound<Frame>>,
    mut sockets: Query<&mut Socket>,
    mut clients: Query<&mut Client>,
    (fix, cast): (Res<Fix>, Res<Cast>),
    mut cx: SimCtx,
) {
    for Inbound { msg: frame, .. } in frames.read() {
        if frame.to == cast.server {
            continue;
        }
        let Some(mut socket) = cx.entity(frame.to).and_then(|e| sockets.get_mut(e).ok()) else { continue };
        let Some(mut client) = cx.entity(socket.client).and_then(|e| clients.get_mut(e).ok()) else { continue };
        match frame.kind {
            FrameKind::Opened if socket.state == SocketState::Connecting => {
                set_state(&mut cx, frame.to, &mut socket, SocketState::Open);
                if socket.handlers {
                    // ws.onopen = () => { this.connected = true; }
                    client.connected = true;
                    let args = Args::EMPTY.id("socket", frame.to);
                    cx.trace(EventKind::State, socket.client, "connected", frame.to, args);
                }
            }
            FrameKind::Closed if socket.state != SocketState::Closed => {
                set_state(&mut cx, frame.to, &mut socket, SocketState::Closed);
                if socket.handlers {
                    on_close(fix.0, frame.to, socket.client, &mut client, &mut cx);
                }
            }
            // A closing socket ignores the opening handshake's late answer; a closed one
            // ignores everything, a duplicated Close frame included (onclose runs once).
            _ => {}
        }
    }
}

/// `ws.onclose`, run when the close of socket `socket` completes: the race. In `bug` it
/// clears whatever socket the client holds by now, which after a reconnect's backoff is
/// the new one; `guard` first checks that the socket closing is still the current one.
fn on_close(fix: Variant, socket: Id, client_id: Id, client: &mut Client, cx: &mut SimCtx) {
    let current = client.current.unwrap_or(Id::NONE);
    if fix.onclose_checks_its_socket() && client.current != Some(socket) {
        cx.trace(EventKind::Call, socket, "onclose", client_id, Args::EMPTY.id("current", current).b("ignored", true));
        return;
    }
    cx.trace(EventKind::Call, socket, "onclose", client_id, Args::EMPTY.id("current", current));
    client.current = None;
    client.connected = false;
    cx.trace(EventKind::State, client_id, "disconnected", socket, Args::EMPTY.s("socket", "null"));
}

/// A socket's `readyState` changes, traced with where it came from.
fn set_state(cx: &mut SimCtx, id: Id, socket: &mut Socket, to: SocketState) {
    let from = socket.state;
    socket.state = to;
    cx.trace(EventKind::State, id, to.name(), socket.client, Args::EMPTY.s("from", from.name()));
}

/// The server: answers each handshake and logs the data it receives.
pub fn server(
    mut frames: MessageReader<Inbound<Frame>>,
    mut log: ResMut<ServerLog>,
    mut wire: MessageWriter<Outbound<Frame>>,
    cast: Res<Cast>,
    mut cx: SimCtx,
) {
    for Inbound { msg: frame, .. } in frames.read() {
        if frame.to != cast.server {
            continue;
        }
        let reply = match frame.kind {
            FrameKind::Open => FrameKind::Opened,
            FrameKind::Close => FrameKind::Closed,
            FrameKind::Data(message) => {
                log.received.push(message);
                cx.count("server.messages", 1);
                continue;
            }
            FrameKind::Opened | FrameKind::Closed => continue,
        };
        wire.write(Outbound(Frame { from: cast.server, to: frame.from, kind: reply }));
    }
}

/// Once per tick, on its last step (after every event of the tick has been handled, as a
/// `queueMicrotask(flush)` runs after the turn): the queued messages go out through the
/// client's socket, if it says it is connected.
pub fn flush(mut clients: Query<&mut Client>, mut wire: MessageWriter<Outbound<Frame>>, cast: Res<Cast>) {
    for mut client in &mut clients {
        if !client.connected || client.outbox.is_empty() {
            continue;
        }
        // `this.socket.send(m)` with `this.socket === null` throws: nothing leaves.
        let Some(socket) = client.current else { continue };
        for message in std::mem::take(&mut client.outbox) {
            wire.write(Outbound(Frame { from: socket, to: cast.server, kind: FrameKind::Data(message) }));
        }
    }
}
