//! The signaling model against the statements it follows, and the one timing choice it
//! makes: an already-complete future goes on in the same step (`microtask = "inline"`).

use racelab::engine::trace::{Event, EventKind};
use racelab::engine::{Registry, Sim, TraceLevel};
use racelab::explore::run::run_variant;
use racelab::scenario::Scenario;
use std::collections::BTreeSet;

const SIGNALING: &[&str] = &[
    "connect_churn",
    "dispose_during_ice",
    "flag_reset_timing",
    "multi_peer_isolation",
    "rapid_reconnect",
    "reconnect_cycles",
    "server_switch",
];

fn text(name: &str) -> String {
    std::fs::read_to_string(format!("{}/scenarios/{name}.toml", env!("CARGO_MANIFEST_DIR"))).expect("reads")
}

fn parse(name: &str, text: &str) -> Scenario {
    Scenario::parse(&Registry::builtin(), &format!("{name}.toml"), text).unwrap_or_else(|e| panic!("{e}"))
}

/// Each variant's set of broken invariants over the file's seeds.
fn breaks(s: &Scenario) -> Vec<(String, BTreeSet<String>)> {
    s.variants
        .iter()
        .map(|v| {
            let r = run_variant(s, v, s.seeds.clone()).unwrap_or_else(|e| panic!("{e}"));
            (v.clone(), r.failures.keys().cloned().collect())
        })
        .collect()
}

#[test]
fn microtask_timing_changes_no_verdict() {
    // The model's docs claim it: resuming an already-complete future a tick later instead of
    // in the same step breaks the same invariants, variant by variant, in every scenario.
    let (a, b): (Vec<_>, Vec<_>) = SIGNALING.iter().enumerate().partition(|(i, _)| i % 2 == 0);
    let check = |names: Vec<(usize, &&str)>| {
        for (_, name) in names {
            let inline = parse(name, &text(name));
            let tick = text(name).replacen("[signaling]\n", "[signaling]\nmicrotask = \"tick\"\n", 1);
            assert_ne!(tick, text(name), "{name} has a [signaling] section");
            let tick = parse(name, &tick);
            assert_eq!(breaks(&inline), breaks(&tick), "{name}");
        }
    };
    std::thread::scope(|scope| {
        let ha = scope.spawn(|| check(a));
        let hb = scope.spawn(|| check(b));
        ha.join().expect("thread a");
        hb.join().expect("thread b");
    });
}

const CALM: &str = r#"name = "calm"
model = "signaling"
max_ticks = 500

[signaling]
await = [3, 3]
ice_candidates = [1, 1]
ice_delay = [50, 50]

[faults]
delay = [1, 1]

[[step]]
at = 0
do = "enable_external"
server = "A"

[[step]]
at = 10
do = "connect"
peer = "P1"

[[step]]
at = 30
do = "disable_external"
"#;

fn events(variant: &str) -> Vec<Event> {
    let s = parse("calm", CALM);
    let mut sim = Sim::new(&s, variant).expect("builds");
    sim.trace_level(TraceLevel::Full);
    sim.seed(0);
    sim.trace().events().to_vec()
}

fn find(events: &[Event], kind: EventKind, what: &str) -> Vec<u64> {
    events.iter().filter(|e| e.kind == kind && e.what == what).map(|e| e.tick).collect()
}

#[test]
fn disconnect_clears_is_connected_before_its_first_await() {
    // signaling_client.dart:97-98: `_isConnected = false` runs when disconnect() is called; the
    // socket's close (:106) is awaited after. disable (:110) starts at tick 30.
    let ev = events("flag_callback");
    assert_eq!(find(&ev, EventKind::Act, "disable_external"), [30]);
    assert_eq!(find(&ev, EventKind::State, "disconnected"), [30]);
    // `_signalingClient = null` (:113) only once the close (3 ticks) has completed.
    assert_eq!(find(&ev, EventKind::State, "signaling_client_null"), [33]);
}

#[test]
fn the_shipped_fix_disposes_the_client_in_disable() {
    // bb400e41 awaits `state.client.dispose()` where the seed's code awaits disconnect().
    let seed = events("flag_callback");
    assert!(find(&seed, EventKind::State, "disposed").is_empty());
    let shipped = events("shipped_stream");
    assert_eq!(find(&shipped, EventKind::State, "disposed"), [30]);
    assert_eq!(find(&shipped, EventKind::State, "signaling_client_null"), [33]);
}

#[test]
fn a_connect_pairs_before_it_negotiates() {
    // connectToExternalPeer only sends pair_request (connection_manager.dart:137); the
    // connection is made when pair_matched comes back (:256-268), after createOffer's five
    // platform calls (webrtc_service.dart:66-80), and the offer leaves after them.
    let ev = events("flag_callback");
    // What the app's client puts on the wire (the server forwards some of it again).
    let sent = |what: &str| {
        ev.iter()
            .filter(|e| e.kind == EventKind::Send && e.what == what && e.actor == ev[1].actor)
            .map(|e| e.tick)
            .collect::<Vec<_>>()
    };
    assert_eq!(ev[1].what, "connecting", "client#1's first event");
    assert_eq!(sent("pair_request"), [10]);
    let matched = ev.iter().find(|e| e.kind == EventKind::Deliver && e.what == "pair_matched").expect("matched").tick;
    let made = find(&ev, EventKind::State, "new");
    assert_eq!(made, [matched + 3], "createPeerConnection: one 3-tick await after pair_matched");
    assert_eq!(sent("offer"), [matched + 3 + 4 * 3], "two data channels, createOffer, setLocalDescription");
}
