//! Determinism and replay: the same seed gives the same trace, whether the world is fresh
//! or reused; a recorded tape replays to the same trace; a doctored tape is caught.

use racelab::engine::Registry;
use racelab::engine::tape::{Choice, ReplayMode, Tape};
use racelab::engine::{Sim, TraceLevel, Verdict};
use racelab::scenario::Scenario;
use std::borrow::Cow;

fn scenario(name: &str) -> Scenario {
    Scenario::load(&Registry::builtin(), format!("{}/scenarios/{name}.toml", env!("CARGO_MANIFEST_DIR")))
        .expect("loads")
}

#[test]
fn same_seed_same_trace_in_fresh_and_reused_worlds() {
    let s = scenario("dispose_during_ice");
    for variant in &s.variants {
        let mut reused = Sim::new(&s, variant).expect("builds");
        let hashes: Vec<String> = (0..20).map(|seed| reused.seed(seed).trace_hash).collect();
        for seed in [0u64, 7, 19] {
            let mut fresh = Sim::new(&s, variant).expect("builds");
            assert_eq!(fresh.seed(seed).trace_hash, hashes[seed as usize], "{variant} seed {seed}");
        }
        let again: Vec<String> = (0..20).map(|seed| reused.seed(seed).trace_hash).collect();
        assert_eq!(hashes, again, "{variant}: a second pass over the same seeds");
        let distinct: std::collections::BTreeSet<&String> = hashes.iter().collect();
        assert!(distinct.len() > 10, "{variant}: different seeds explore different traces");
    }
}

#[test]
fn trace_level_does_not_change_the_hash() {
    let s = scenario("server_switch");
    let mut sim = Sim::new(&s, "flag_callback").expect("builds");
    let plain = sim.seed(3);
    sim.trace_level(TraceLevel::Full);
    let full = sim.seed(3);
    assert_eq!(plain, full);
    assert!(!sim.trace().events().is_empty());
}

#[test]
fn recorded_tape_replays_exactly() {
    let s = scenario("dispose_during_ice");
    let mut sim = Sim::new(&s, "flag_callback").expect("builds");
    sim.trace_level(TraceLevel::Full);
    let original = sim.seed(1);
    assert!(matches!(original.verdict, Verdict::Violation { .. }), "seed 1 fails: {:?}", original.verdict);
    let tape = sim.choices().to_vec();
    let events = sim.trace().events().to_vec();
    assert!(!tape.is_empty());
    let replayed = sim.tape(tape);
    assert_eq!(replayed.verdict, original.verdict);
    assert_eq!(replayed.trace_hash, original.trace_hash);
    assert_eq!(sim.trace().events(), &events[..]);
}

#[test]
fn doctored_tape_reports_the_first_divergent_step() {
    let s = scenario("dispose_during_ice");
    let mut sim = Sim::new(&s, "flag_callback").expect("builds");
    sim.seed(0);
    let mut tape = sim.choices().to_vec();
    let at = 5;
    tape[at] = Choice { label: Cow::Borrowed("not.a.label"), n: tape[at].n, value: 0 };
    let out = sim.tape(tape.clone());
    match out.verdict {
        Verdict::Diverged { detail } => {
            assert!(detail.contains(&format!("choice {at}")), "{detail}");
            assert!(detail.contains("not.a.label"), "{detail}");
        }
        other => panic!("expected a divergence, got {other:?}"),
    }
    // A range that no longer fits is a divergence too.
    let mut sim2 = Sim::new(&s, "flag_callback").expect("builds");
    sim2.seed(0);
    let mut tape2 = sim2.choices().to_vec();
    tape2[0].n += 1;
    assert!(matches!(sim2.tape(tape2).verdict, Verdict::Diverged { .. }));
    // A truncated tape ends early: strict replay says so.
    let mut sim3 = Sim::new(&s, "flag_callback").expect("builds");
    sim3.seed(0);
    let short = sim3.choices()[..3].to_vec();
    match sim3.tape(short).verdict {
        Verdict::Diverged { detail } => assert!(detail.contains("tape ended"), "{detail}"),
        other => panic!("expected a divergence, got {other:?}"),
    }
}

#[test]
fn lenient_replay_takes_calm_values_where_the_tape_does_not_fit() {
    let s = scenario("dispose_during_ice");
    let mut sim = Sim::new(&s, "stream").expect("builds");
    let calm = sim.run(Tape::replay(Vec::new(), ReplayMode::Lenient), 0);
    let again = sim.run(Tape::replay(Vec::new(), ReplayMode::Lenient), 0);
    assert_eq!(calm, again);
    assert!(sim.choices().iter().all(|c| c.value == 0), "an empty lenient tape is the calmest run");
}
