//! What the seed's code can fairly be held to.
//!
//! Checked as they happen (in the Dart code, [`super::heap::Heap::ws_send`] and
//! [`super::heap::Heap::set_pc_state`]):
//! - `no_send_on_disposed_client`: nothing leaves through a client after `dispose()` was
//!   called on it (Scenario 2's fear).
//! - `candidate_to_own_session`: a candidate leaves through the client whose `pair_matched`
//!   started its negotiation, not a newer one (Scenario 3: "messages go to wrong server").
//! - `candidate_routed_to_its_peer`: a candidate is addressed to its own connection's peer
//!   (integration test 1: "ICE candidates from PEER_A go to PEER_A target").
//! - `no_candidate_for_removed_connection`: no candidate is sent for a connection that
//!   `closeConnection` already removed from `_connections` (webrtc_service.dart:228 removes
//!   it, then awaits three platform calls while the platform may still gather).
//! - `enable_keeps_its_client`: a `disableExternalConnections` never nulls the client of an
//!   `enableExternalConnections` that started after it (Scenario 1's rapid reconnection).
//! - `valid_state_transitions`: connections take only WebRTC's transitions.
//!
//! Checked at quiescence ([`check_end`]):
//! - `no_callback_leak`, only where the seed's stress test applies ("callback count matches
//!   active peer count"): for the keyed variants (`per_peer_map`: callbacks by peer;
//!   `request_map`: handlers by request) the registered callbacks are exactly those of
//!   connections still open in `_connections`; for the stream variants, at most one
//!   subscription to the signaling stream is live. The single callback of the seed's code
//!   is one by design and is not judged, and nothing is judged after `dispose()` (the
//!   service is garbage then).
//! - `no_orphan_client`: every client whose socket is open is the manager's current client
//!   (connection_manager.dart:88 cancels the old subscription "to prevent leaks", so the
//!   code means to leave none).
//! - `no_connection_outlives_dispose`: after `dispose()` returned, every connection is closed.
//! - `disconnect_sticks`: a peer whose last user action was `disconnectPeer` (and it
//!   returned) has no open connection (unit test 2: "callback is removed when peer
//!   disconnects"; a pairing or `createOffer` still in flight must not bring it back).
//!
//! Liveness ([`monitor`]): `connect_settles`: a peer the UI shows as `connecting` (from
//! `connectToExternalPeer` or `pair_matched`) becomes connected, failed or disconnected
//! within `settle_deadline` ticks after heal, unless the manager was disposed.

use super::Runtime;
use super::Variant;
use super::dart::Dart;
use super::heap::{PcState, PeerUi, Source};
use crate::engine::Engine;
use crate::engine::Id;
use crate::engine::check::Violation;
use bevy_ecs::prelude::*;

/// `no_send_on_disposed_client`.
pub const NO_SEND_ON_DISPOSED: &str = "no_send_on_disposed_client";
/// `candidate_to_own_session`.
pub const OWN_SESSION: &str = "candidate_to_own_session";
/// `candidate_routed_to_its_peer`.
pub const ROUTED: &str = "candidate_routed_to_its_peer";
/// `no_candidate_for_removed_connection`.
pub const REMOVED: &str = "no_candidate_for_removed_connection";
/// `enable_keeps_its_client`.
pub const ENABLE_KEEPS: &str = "enable_keeps_its_client";
/// `no_callback_leak`.
pub const NO_LEAK: &str = "no_callback_leak";
/// `no_orphan_client`.
pub const ORPHAN: &str = "no_orphan_client";
/// `no_connection_outlives_dispose`.
pub const OUTLIVES_DISPOSE: &str = "no_connection_outlives_dispose";
/// `disconnect_sticks`.
pub const DISCONNECT_STICKS: &str = "disconnect_sticks";
/// `valid_state_transitions`.
pub const TRANSITIONS: &str = "valid_state_transitions";
/// Liveness: `connect_settles`.
pub const SETTLES: &str = "connect_settles";

/// Every invariant and monitor name.
pub const ALL: &[&str] = &[
    NO_SEND_ON_DISPOSED,
    OWN_SESSION,
    ROUTED,
    REMOVED,
    ENABLE_KEEPS,
    NO_LEAK,
    ORPHAN,
    OUTLIVES_DISPOSE,
    DISCONNECT_STICKS,
    TRANSITIONS,
    SETTLES,
];

/// `connect_settles`: hot for each peer the UI shows as connecting, until dispose. Asked at
/// the end of every step that ran Dart code (only that changes the heap it reads), on the
/// heap; the step applies the answer to the engine's monitors with its other effects. A step
/// that leaves every peer as it was reports nothing (`None`): telling the monitor again that
/// a peer is hot (or cold) changes nothing.
pub fn settles(d: &Dart) -> Option<Vec<(Id, bool)>> {
    d.with(|h| {
        let disposing = h.disposing;
        let hot = move |ui: PeerUi| ui == PeerUi::Connecting && !disposing;
        let unchanged = h.settles_reported.len() == h.peers.len()
            && h.peers.iter().zip(&h.settles_reported).all(|(&(peer, ui), &(p, was))| peer == p && hot(ui) == was);
        if unchanged {
            return None;
        }
        let now: Vec<(Id, bool)> = h.peers.iter().map(|&(peer, ui)| (peer, hot(ui))).collect();
        h.settles_reported.clone_from(&now);
        Some(now)
    })
}

/// The checks at quiescence.
pub fn check_end(rt: Res<Runtime>, mut out: MessageWriter<Violation>, engine: Res<Engine>) {
    rt.inspect(|h| {
        let n = |id: Id| engine.names.name(id).to_owned();
        let open: Vec<Id> = h.connections.iter().filter(|(_, p)| h.pc(*p).open()).map(|(q, _)| *q).collect();
        let keyed: Option<(Vec<Id>, &str)> = match h.v {
            Variant::PerPeerMap => Some((h.signaling_callbacks.iter().map(|(q, _)| *q).collect(), "callback")),
            Variant::RequestMap => Some((h.handlers.values().copied().collect(), "handler")),
            _ => None,
        };
        // After dispose() the service and its maps are garbage: only a live manager leaks.
        if let Some((mut registered, what)) = keyed.filter(|_| !h.disposing) {
            registered.sort();
            let mut live = open.clone();
            live.sort();
            if registered != live {
                let extra: Vec<String> = registered.iter().filter(|q| !live.contains(q)).map(|q| n(*q)).collect();
                let missing: Vec<String> = live.iter().filter(|q| !registered.contains(q)).map(|q| n(*q)).collect();
                out.write(Violation {
                    invariant: NO_LEAK,
                    detail: format!(
                        "{} {what}(s) registered for {} open connection(s); {what} without connection: [{}]; connection without {what}: [{}]",
                        registered.len(),
                        live.len(),
                        extra.join(", "),
                        missing.join(", ")
                    ),
                    ids: vec![h.app],
                });
            }
        }
        if matches!(h.v, Variant::Stream | Variant::ShippedStream) && !h.disposing {
            let live = h
                .subs
                .iter()
                .filter(|s| {
                    !s.cancelled && matches!(s.on, Source::EventsToCurrentClient | Source::EventsToSignalingState)
                })
                .count();
            // A closed controller ends its subscriptions.
            if live > 1 && !h.controller_closed {
                out.write(Violation {
                    invariant: NO_LEAK,
                    detail: format!("{live} subscriptions to the signaling stream are live at once"),
                    ids: vec![h.app],
                });
            }
        }
        if let Some(c) = h.clients.iter().enumerate().find(|(i, c)| {
            c.socket_open && (h.disposed || h.signaling_client != Some(*i as u16))
        }) {
            out.write(Violation {
                invariant: ORPHAN,
                detail: format!("{}'s socket is still open and registered, but the manager no longer holds it", n(c.1.id)),
                ids: vec![c.1.id],
            });
        }
        if !h.disposing
            && let Some((peer, p)) = h
                .connections
                .iter()
                .find(|(q, p)| h.wants.get(q) == Some(&false) && h.pc(*p).open())
        {
            out.write(Violation {
                invariant: DISCONNECT_STICKS,
                detail: format!(
                    "{} was disconnected, but {} opened afterwards and is {}",
                    n(*peer),
                    n(h.pc(*p).id),
                    h.pc(*p).state.name()
                ),
                ids: vec![h.pc(*p).id, *peer],
            });
        }
        if h.disposed
            && let Some(p) = h.pcs.iter().find(|p| p.state != PcState::Closed)
        {
            out.write(Violation {
                invariant: OUTLIVES_DISPOSE,
                detail: format!("{} is still {} after dispose() returned", n(p.id), p.state.name()),
                ids: vec![p.id],
            });
        }
    });
}
