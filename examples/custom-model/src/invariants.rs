//! What must hold: two invariants and a liveness monitor. Each reports through
//! [`SimCtx::violate`] or [`SimCtx::monitor`]; the engine keeps the first break of each,
//! and the run goes on, so one run shows every invariant it breaks.

use crate::components::{Client, ServerLog, Socket, SocketState};
use racelab::prelude::*;

/// An open socket is its client's current socket, and the client says it is connected:
/// otherwise the connection is open but the app can neither use nor close it.
pub const CLIENT_NOT_ORPHANED: &str = "client_not_orphaned";
/// At quiescence, every message the app handed to `send()` has reached the server.
pub const NO_MESSAGE_LOST: &str = "no_message_lost";
/// Liveness: once the app has called `connect()`, the client ends up connected through an
/// open socket (within `settle_deadline` ticks of the heal point, and by quiescence).
pub const RECONNECT_COMPLETES: &str = "reconnect_completes";

/// Every invariant and monitor, for `racelab list` and `[[expect]]`.
pub const ALL: &[&str] = &[CLIENT_NOT_ORPHANED, NO_MESSAGE_LOST, RECONNECT_COMPLETES];

/// `client_not_orphaned`, after every step.
pub fn client_not_orphaned(sockets: Query<(&Id, &Socket)>, clients: Query<&Client>, mut cx: SimCtx) {
    for (&id, socket) in &sockets {
        if socket.state != SocketState::Open {
            continue;
        }
        let Some(client) = cx.entity(socket.client).and_then(|e| clients.get(e).ok()) else { continue };
        if client.current == Some(id) && client.connected {
            continue;
        }
        let detail = format!(
            "{} is open but the client's socket is {} and it says {}",
            cx.name(id),
            client.current.map_or("null", |c| cx.name(c)),
            if client.connected { "connected" } else { "disconnected" }
        );
        cx.violate(CLIENT_NOT_ORPHANED, detail, vec![id, socket.client]);
    }
}

/// `reconnect_completes`: hot while the client is wanted but not connected through an open
/// socket. A handshake in progress makes it hot too; the deadline is what tells the two apart.
pub fn reconnect_completes(clients: Query<(&Id, &Client)>, sockets: Query<&Socket>, mut cx: SimCtx) {
    for (&id, client) in &clients {
        let open = client
            .current
            .and_then(|s| cx.entity(s))
            .and_then(|e| sockets.get(e).ok())
            .is_some_and(|s| s.state == SocketState::Open);
        cx.monitor(RECONNECT_COMPLETES, id, client.wanted && !(client.connected && open));
    }
}

/// `no_message_lost`, at quiescence: each message name must have reached the server at
/// least as many times as the app sent it (a duplicated envelope counts twice, so a lost
/// message can hide behind a duplicate of another send of the same name).
pub fn no_message_lost(clients: Query<(&Id, &Client)>, log: Res<ServerLog>, mut cx: SimCtx) {
    for (&id, client) in &clients {
        let mut lost: Vec<Id> = Vec::new();
        for &message in &client.sent {
            let sent = client.sent.iter().filter(|&&m| m == message).count();
            let received = log.received.iter().filter(|&&m| m == message).count();
            if received < sent && !lost.contains(&message) {
                lost.push(message);
            }
        }
        if lost.is_empty() {
            continue;
        }
        let names: Vec<&str> = lost.iter().map(|&m| cx.name(m)).collect();
        let detail = format!(
            "never reached the server: {} ({} still queued in the client)",
            names.join(", "),
            client.outbox.len()
        );
        let mut ids = vec![id];
        ids.extend(lost);
        cx.violate(NO_MESSAGE_LOST, detail, ids);
    }
}
