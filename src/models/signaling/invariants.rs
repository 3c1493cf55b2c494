//! The signaling model's invariants and its liveness monitor.
//!
//! Handlers record facts (sends, state transitions, candidate arrivals) as they happen; the
//! Check stage judges them, so the rules live in one place.

use super::Variant;
use super::components::{Pc, PcState};
use super::manager::Manager;
use super::signal::SigKind;
use crate::engine::check::{Monitors, Violation};
use crate::engine::{Clock, Id, Names};
use bevy_ecs::prelude::*;

/// `no_send_on_disposed_client`: nothing is sent through a client after `dispose()`.
pub const NO_SEND_ON_DISPOSED: &str = "no_send_on_disposed_client";
/// `candidate_to_own_session`: a candidate leaves through the client current when its connection started.
pub const OWN_SESSION: &str = "candidate_to_own_session";
/// `candidate_routed_to_its_peer`: a candidate is addressed to, and reaches, its connection's peer.
pub const ROUTED: &str = "candidate_routed_to_its_peer";
/// `no_callback_leak`: at quiescence, callbacks match live connections.
pub const NO_LEAK: &str = "no_callback_leak";
/// `valid_state_transitions`: connections only take WebRTC's transitions.
pub const TRANSITIONS: &str = "valid_state_transitions";
/// Liveness: every connect ends connected, failed or closed after heal.
pub const SETTLES: &str = "connect_settles";

/// Every invariant and monitor name.
pub const ALL: &[&str] = &[NO_SEND_ON_DISPOSED, OWN_SESSION, ROUTED, NO_LEAK, TRANSITIONS, SETTLES];

/// One call of `_send`.
#[derive(Clone, Debug)]
pub struct SendFact {
    /// The client used.
    pub client: Id,
    /// Whether it was disposed.
    pub disposed: bool,
    /// What was sent.
    pub kind: SigKind,
    /// The connection it belongs to.
    pub pc: Id,
    /// That connection's own session.
    pub pc_session: Option<Id>,
    /// That connection's peer.
    pub pc_peer: Id,
    /// The `target` it was addressed to.
    pub target: Id,
}

/// What happened this tick that the invariants judge.
#[derive(Resource, Default, Debug)]
pub struct Facts {
    /// Sends.
    pub sends: Vec<SendFact>,
    /// `(pc, from, to)` state changes.
    pub transitions: Vec<(Id, PcState, PcState)>,
    /// `(remote, pc, pc's peer)` candidate arrivals at remote peers.
    pub arrivals: Vec<(Id, Id, Id)>,
}

/// Judge this tick's facts.
pub fn check_facts(mut facts: ResMut<Facts>, mut out: MessageWriter<Violation>, names: Res<Names>) {
    let n = |id: Id| names.name(id).to_owned();
    for s in &facts.sends {
        if s.disposed {
            out.write(Violation {
                invariant: NO_SEND_ON_DISPOSED,
                detail: format!("{} sent through {} after it was disposed", s.kind.name(), n(s.client)),
                ids: vec![s.client, s.pc],
            });
        }
        if s.kind == SigKind::Candidate && s.pc_session != Some(s.client) {
            out.write(Violation {
                invariant: OWN_SESSION,
                detail: format!(
                    "candidate of {} (started under {}) sent through {}",
                    n(s.pc),
                    s.pc_session.map_or("no client".to_owned(), n),
                    n(s.client)
                ),
                ids: vec![s.pc, s.client],
            });
        }
        if s.kind == SigKind::Candidate && s.target != s.pc_peer {
            out.write(Violation {
                invariant: ROUTED,
                detail: format!("candidate of {} (peer {}) addressed to {}", n(s.pc), n(s.pc_peer), n(s.target)),
                ids: vec![s.pc, s.target],
            });
        }
    }
    for (remote, pc, pc_peer) in &facts.arrivals {
        if remote != pc_peer {
            out.write(Violation {
                invariant: ROUTED,
                detail: format!("candidate of {} (peer {}) arrived at {}", n(*pc), n(*pc_peer), n(*remote)),
                ids: vec![*pc, *remote],
            });
        }
    }
    for (pc, from, to) in &facts.transitions {
        if !from.can_go(*to) {
            out.write(Violation {
                invariant: TRANSITIONS,
                detail: format!("{} went {} -> {}", n(*pc), from.name(), to.name()),
                ids: vec![*pc],
            });
        }
    }
    facts.sends.clear();
    facts.transitions.clear();
    facts.arrivals.clear();
}

/// `connect_settles`: a connection is hot while it is new, connecting or disconnected.
pub fn monitor_connects(pcs: Query<&Pc>, mut monitors: ResMut<Monitors>, clock: Res<Clock>) {
    for pc in &pcs {
        monitors.set(SETTLES, pc.id, pc.pending(), clock.now);
    }
}

/// `no_callback_leak`, at quiescence: no callback is registered for a peer without a live
/// connection; a callback not keyed by peer (the single slot, a stream subscription) exists
/// only while some connection is live, and never more than one.
pub fn check_leaks(
    mgr: Res<Manager>,
    variant: Res<super::VariantRes>,
    pcs: Query<&Pc>,
    mut out: MessageWriter<Violation>,
    names: Res<Names>,
) {
    let live: Vec<&Pc> = pcs.iter().filter(|p| p.live()).collect();
    let live_peer = |peer: Id| live.iter().any(|p| p.peer == peer);
    for peer in &mgr.per_peer {
        if !live_peer(*peer) {
            out.write(Violation {
                invariant: NO_LEAK,
                detail: format!("per-peer callback for {} outlives its connection", names.name(*peer)),
                ids: vec![*peer],
            });
            return;
        }
    }
    let unkeyed = match variant.0 {
        Variant::FlagCallback | Variant::VersionToken => usize::from(mgr.callback.is_some()),
        Variant::Stream => mgr.streams.len(),
        Variant::PerPeerMap | Variant::SessionBound => 0,
    };
    if unkeyed > 1 {
        out.write(Violation {
            invariant: NO_LEAK,
            detail: format!("{unkeyed} signaling subscriptions are live at once"),
            ids: vec![mgr.app],
        });
    } else if unkeyed == 1 && live.is_empty() {
        out.write(Violation {
            invariant: NO_LEAK,
            detail: "a signaling callback is still registered with no live connection".into(),
            ids: vec![mgr.app],
        });
    }
    if variant.0 == Variant::SessionBound
        && let Some(p) = pcs.iter().find(|p| p.attached && p.state == PcState::Closed)
    {
        out.write(Violation {
            invariant: NO_LEAK,
            detail: format!("{} is closed but its session still holds its callback", names.name(p.id)),
            ids: vec![p.id],
        });
    }
}
