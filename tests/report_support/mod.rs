//! Shared by the report tests and the report bench: runs of shipped scenarios with their
//! full trace, and a synthetic long trace.

#![allow(dead_code)]

use racelab::engine::Registry;
use racelab::engine::trace::{Args, Event, EventKind};
use racelab::engine::{Names, Outcome, Sim, Trace, TraceLevel, Verdict};
use racelab::scenario::Scenario;
use std::collections::BTreeMap;

/// One failing (scenario, variant, invariant) per model, explained in the snapshots and
/// rendered by Mermaid in the tests.
pub const CASES: &[(&str, &str, &str)] = &[
    ("dispose_during_ice", "flag_callback", "no_candidate_for_removed_connection"),
    ("replay_beyond_window", "try_send_drop", "no_duplicate_delivery"),
    ("clone_loses_callbacks", "baseline", "every_event_reaches_every_handler"),
    ("strikes_lost_increment", "await_between", "no_lost_strike"),
];

/// A scenario file of this repository.
pub fn scenario(name: &str) -> Scenario {
    let path = format!("{}/scenarios/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    Scenario::load(&Registry::builtin(), std::path::Path::new(&path)).unwrap_or_else(|e| panic!("{e}"))
}

/// The first seed of `seeds` whose run of `variant` violates `invariant`, run again with the
/// full trace kept.
pub fn first_failure(
    scenario: &Scenario,
    variant: &str,
    invariant: &str,
    seeds: std::ops::Range<u64>,
) -> (Sim, Outcome) {
    let mut sim = Sim::new(scenario, variant).unwrap_or_else(|e| panic!("{e}"));
    let seed = seeds
        .clone()
        .find(|&s| sim.seed(s).verdict.failed_check() == Some(invariant))
        .unwrap_or_else(|| panic!("no seed in {seeds:?} makes {variant} violate {invariant}"));
    sim.trace_level(TraceLevel::Full);
    let out = sim.seed(seed);
    (sim, out)
}

/// A synthetic trace of `n` events: eight actors exchanging messages with delays, idle
/// stretches, duplicates, drops and held envelopes, state changes, and a violation at the end.
pub fn synthetic(n: usize) -> (Trace, Names, Outcome) {
    let mut names = Names::default();
    let ids: Vec<_> = (0..8).map(|k| names.intern(&format!("node:{k}#{}", k * 3))).collect();
    let mut trace = Trace::default();
    trace.reset(TraceLevel::Full);
    // Deterministic pseudo-randomness (an LCG): the trace must be the same every time.
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |m: u64| {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (x >> 33) % m
    };
    let mut pending: BTreeMap<(u64, u64), Event> = BTreeMap::new();
    let (mut tick, mut env, mut count) = (0u64, 0u64, 0usize);
    let whats = ["offer", "answer", "ice_candidate", "ack", "heartbeat"];
    let states = ["connecting", "connected", "closing", "closed"];
    while count + 1 < n {
        tick += if next(40) == 0 { 50 + next(400) } else { 1 + next(3) };
        let due: Vec<(u64, u64)> = pending.range(..=(tick, u64::MAX)).map(|(k, _)| *k).collect();
        for k in due {
            if let Some(e) = pending.remove(&k) {
                if count + 1 >= n {
                    break;
                }
                trace.push(
                    &names,
                    Event {
                        tick,
                        env: e.env,
                        ..Event::new(tick, EventKind::Deliver, e.other, e.what).other(e.actor).args(e.args)
                    },
                );
                count += 1;
            }
        }
        for _ in 0..1 + next(3) {
            if count + 1 >= n {
                break;
            }
            let (a, b) = (next(8) as usize, next(8) as usize);
            let (a, b) = (ids[a], ids[if a == b { (b + 1) % 8 } else { b }]);
            let roll = next(100);
            if roll < 10 {
                let e = Event::new(tick, EventKind::State, a, states[next(4) as usize]);
                trace.push(&names, e);
                count += 1;
                continue;
            }
            env += 1;
            let what = whats[next(5) as usize];
            let kind = match roll {
                10..=12 => EventKind::Drop,
                13..=15 => EventKind::Duplicate,
                16..=17 => EventKind::Hold,
                _ => EventKind::Send,
            };
            let due = tick + if kind == EventKind::Hold { 100 + next(200) } else { 1 + next(30) };
            let e = Event {
                env,
                due,
                ..Event::new(tick, kind, a, what).other(b).args(Args::EMPTY.u("n", env).id("to", b))
            };
            trace.push(&names, e.clone());
            count += 1;
            if kind != EventKind::Drop {
                pending.insert((due, env), e);
            }
        }
    }
    let mut v = Event::new(tick, EventKind::Violation, ids[1], "no_send_after_close");
    v.detail = Some("heartbeat sent through node:1#3 after it closed".into());
    trace.push(&names, v);
    let verdict = Verdict::Violation {
        invariant: "no_send_after_close".into(),
        tick,
        detail: "heartbeat sent through node:1#3 after it closed".into(),
        ids: vec!["node:1#3".into()],
    };
    let outcome = Outcome {
        scenario: "synthetic".into(),
        variant: "long".into(),
        seed: 0,
        violations: vec![verdict.clone()],
        halted: None,
        verdict,
        ticks: tick,
        messages: env,
        trace_hash: format!("{:016x}", trace.hash()),
        metrics: BTreeMap::new(),
    };
    (trace, names, outcome)
}
