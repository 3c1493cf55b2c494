//! The determinism self-check: every shipped scenario and variant runs the same on a reused
//! simulation as on a fresh one, and a model that forgets to reset its state is caught,
//! both by the trace comparison and by the audit that names the resource.

use racelab::engine::determinism::{Nondeterminism, check};
use racelab::engine::schedule::{Stage, TickSchedule};
use racelab::engine::{Limits, faults::FaultPlan};
use racelab::prelude::*;

#[test]
fn every_shipped_scenario_and_variant_is_deterministic() {
    let registry = Registry::builtin();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios");
    let mut files: Vec<_> = std::fs::read_dir(dir).expect("scenarios").map(|e| e.expect("entry").path()).collect();
    files.sort();
    let mut checked = 0;
    for file in files.iter().filter(|p| p.extension().is_some_and(|x| x == "toml")) {
        let scenario = Scenario::load(&registry, file).unwrap_or_else(|e| panic!("{e}"));
        for variant in &scenario.variants {
            let n = Sim::check_determinism(&scenario, variant, 0..4)
                .unwrap_or_else(|e| panic!("{} / {variant}: {e}", file.display()));
            checked += n;
        }
    }
    assert!(checked > 100, "checked {checked} runs");
}

/// A counter that each run bumps and nothing resets.
#[derive(Resource, Default)]
struct Leaky(u64);

/// A count the model reset properly (through the engine).
#[derive(Resource, Default, Clone)]
struct Kept(u64);

fn bump(mut leaky: ResMut<Leaky>, mut kept: ResMut<Kept>, mut cx: SimCtx) {
    if cx.now() == 0 {
        leaky.0 += 1;
        kept.0 += 1;
        // The leak decides a choice: runs after the first take a different path.
        let n = 2 + (leaky.0.min(3) as u32);
        cx.tape.choose("leaky", n);
    }
}

fn leaky_sim() -> Result<Sim, String> {
    Sim::custom("leaky", FaultPlan::calm(), Limits { max_ticks: 10, max_messages: 10 }, |app| {
        app.init_resource::<Leaky>();
        app.init_sim_resource::<Kept>();
        app.add_systems(TickSchedule, bump.in_set(Stage::Model));
    })
}

#[test]
fn a_model_that_forgets_a_reset_is_caught() {
    let err = check(leaky_sim, 0..3).expect_err("the leak shows");
    match &err {
        Nondeterminism::Differs { seed, what } => {
            assert_eq!(*seed, 0);
            assert!(what.contains("trace") || what.contains("choices"), "{what}");
        }
        other => panic!("expected a difference, got {other}"),
    }
}

#[test]
fn the_audit_names_the_resource_even_when_traces_agree() {
    let mut sim = leaky_sim().expect("builds");
    sim.audit_resets(true);
    sim.seed(0);
    sim.seed(1);
    let found = sim.unreset_resources().join(", ");
    assert!(found.contains("Leaky"), "{found}");
    assert!(!found.contains("Kept"), "a resource inserted with insert_sim_resource is reset: {found}");
}
