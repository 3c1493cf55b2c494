//! Every tasks scenario is a function of its tape: the same seed gives the same outcome and
//! trace hash whatever ran before it in the same `Sim` (ids, spawned instances and services
//! are interned across runs) and in a fresh one, and a recorded tape replays exactly.

use racelab::prelude::*;

fn tasks_scenarios() -> Vec<Scenario> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| Scenario::load(&Registry::builtin(), p).unwrap_or_else(|e| panic!("{e}")))
        .filter(|s| s.model == "tasks")
        .collect()
}

#[test]
fn outcomes_do_not_depend_on_what_ran_before() {
    let scenarios = tasks_scenarios();
    assert!(scenarios.len() >= 8);
    for s in &scenarios {
        for v in &s.variants {
            let forward: Vec<Outcome> = {
                let mut sim = Sim::new(s, v).unwrap_or_else(|e| panic!("{e}"));
                (0..12).map(|seed| sim.seed(seed)).collect()
            };
            let mut sim = Sim::new(s, v).unwrap_or_else(|e| panic!("{e}"));
            for seed in (0..12).rev() {
                let out = sim.seed(seed);
                assert_eq!(out, forward[seed as usize], "{} / {v} / seed {seed}", s.name);
            }
        }
    }
}

#[test]
fn a_recorded_tape_replays_exactly() {
    for s in &tasks_scenarios() {
        for v in &s.variants {
            let mut sim = Sim::new(s, v).unwrap_or_else(|e| panic!("{e}"));
            sim.trace_level(TraceLevel::Full);
            for seed in [3, 7] {
                let out = sim.seed(seed);
                let tape = sim.choices().to_vec();
                let replay = sim.tape(tape);
                assert_eq!((&replay.verdict, &replay.trace_hash), (&out.verdict, &out.trace_hash), "{} / {v}", s.name);
            }
        }
    }
}
