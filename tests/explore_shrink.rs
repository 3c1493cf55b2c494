//! Shrinking: a shrunk tape replays strictly to the same violation, has no more non-calm
//! choices than the original, and no single remaining fault can be made calm.

use racelab::engine::Registry;
use racelab::engine::replay::Failure;
use racelab::engine::tape::{ReplayMode, Tape, non_calm};
use racelab::engine::{Sim, TraceLevel};
use racelab::explore::shrink::{ShrinkConfig, shrink};
use racelab::explore::strategy::StrategyKind;
use racelab::explore::sweep::{Collect, SweepConfig, sweep, targets};
use racelab::scenario::Scenario;
use std::collections::BTreeSet;
use std::sync::atomic::AtomicBool;

/// The first failure of every (scenario, variant, invariant) in a short sweep of `name`.
fn firsts(name: &str, seeds: std::ops::Range<u64>, kind: StrategyKind) -> Vec<(Scenario, Failure)> {
    let path = format!("{}/scenarios/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    let scenario = Scenario::load(&Registry::builtin(), &path).unwrap_or_else(|e| panic!("{e}"));
    let mut cfg = SweepConfig::new(targets(&path, scenario.clone(), None).expect("targets"), seeds);
    cfg.strategy = kind;
    cfg.jobs = 2;
    let mut found = Collect::default();
    sweep(&cfg, &AtomicBool::new(false), &mut found).unwrap_or_else(|e| panic!("{e}"));
    let mut seen = BTreeSet::new();
    found
        .failures
        .into_iter()
        .filter(|(t, f)| seen.insert((*t, f.verdict.failed_check().map(str::to_owned))))
        .map(|(_, f)| (scenario.clone(), f))
        .collect()
}

#[test]
fn shrunk_tapes_replay_to_the_same_violation_with_no_more_faults() {
    let mut cases = firsts("dispose_during_ice", 0..40, StrategyKind::Random);
    cases.extend(firsts("flag_reset_timing", 0..60, StrategyKind::Swarm));
    cases.extend(firsts("rapid_reconnect", 0..120, StrategyKind::Pct));
    assert!(cases.len() >= 8, "enough failures to shrink ({})", cases.len());
    let mut fewer = 0;
    for (scenario, original) in &cases {
        let name = format!("{}/{} seed {}", original.scenario, original.variant, original.seed);
        let check = original.verdict.failed_check().expect("a failure");
        let report = shrink(scenario, original, ShrinkConfig::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let shrunk = &report.failure;
        assert!(!report.budget_cut, "{name}: shrinking ended by itself");

        // Strict replay: exactly the run the file describes.
        let mut sim = Sim::new(scenario, &original.variant).expect("builds");
        sim.trace_level(TraceLevel::Full);
        let again = sim.tape(shrunk.tape.clone());
        assert_eq!(again.verdict.failed_check(), Some(check), "{name}: same invariant");
        assert_eq!((&again.verdict, &again.trace_hash), (&shrunk.verdict, &shrunk.trace_hash), "{name}");
        assert_eq!(sim.trace().events().len(), report.after.events);

        assert!(non_calm(&shrunk.tape) <= non_calm(&original.tape), "{name}: no more faults");
        assert_eq!(report.before.faults, non_calm(&original.tape));
        if report.after.faults < report.before.faults {
            fewer += 1;
        }
        let info = shrunk.shrunk.as_ref().expect("the file says it was shrunk");
        assert_eq!(info.from_trace_hash, original.trace_hash);

        // A fixpoint: making any one remaining non-calm choice calm no longer fails the same
        // way with fewer non-calm choices.
        sim.trace_level(TraceLevel::Hash);
        for i in (0..shrunk.tape.len()).filter(|&i| shrunk.tape[i].value != 0) {
            let mut edited = shrunk.tape.clone();
            edited[i].value = 0;
            let out = sim.run(Tape::replay(edited, ReplayMode::Lenient), 0);
            let better = out.verdict.failed_check() == Some(check) && non_calm(sim.choices()) < report.after.faults;
            assert!(!better, "{name}: choice {i} ({}) could still be calm", shrunk.tape[i].label);
        }
    }
    assert!(fewer * 2 >= cases.len(), "most failures lose faults ({fewer} of {})", cases.len());
}

#[test]
fn a_calm_run_that_passes_cannot_be_the_explanation() {
    // A tampered failure whose tape passes: shrinking refuses rather than inventing one.
    let (scenario, mut f) = firsts("dispose_during_ice", 0..10, StrategyKind::Random)
        .into_iter()
        .find(|(_, f)| f.verdict.failed_check() == Some("no_candidate_for_removed_connection"))
        .expect("a candidate sent for a removed connection");
    f.variant = "shipped_stream".into();
    let err = shrink(&scenario, &f, ShrinkConfig::default()).expect_err("the shipped fix sends none");
    assert!(err.to_string().contains("does not reproduce"), "{err}");
}
