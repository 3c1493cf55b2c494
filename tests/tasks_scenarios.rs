//! Every tasks-model scenario meets its `[[expect]]`s over its seeds (until the shared
//! scenario harness lands on main, this checks ours).

use racelab::prelude::*;
use racelab::scenario::Expected;

fn check(file: &str) {
    let scenario = Scenario::load(format!("scenarios/{file}.toml")).unwrap_or_else(|e| panic!("{e}"));
    for variant in &scenario.variants {
        let mut sim = Sim::new(&scenario, variant).unwrap_or_else(|e| panic!("{e}"));
        let mut failures: Vec<(u64, Verdict)> = Vec::new();
        for seed in scenario.seeds.clone() {
            let o = sim.seed(seed);
            if !o.verdict.is_pass() {
                failures.push((seed, o.verdict));
            }
        }
        let Some(expect) = scenario.expectation(variant) else { continue };
        match &expect.expected {
            Expected::Holds => {
                assert!(
                    failures.is_empty(),
                    "{file}/{variant}: expected to hold, seed {} gives {}",
                    failures[0].0,
                    failures[0].1.summary()
                );
            }
            Expected::Violates(names) => {
                assert!(!failures.is_empty(), "{file}/{variant}: expected a violation of {names:?}, every seed passes");
                for (seed, v) in &failures {
                    let failed = v.failed_check().unwrap_or("");
                    assert!(
                        names.iter().any(|n| n == failed),
                        "{file}/{variant}: seed {seed} fails otherwise: {}",
                        v.summary()
                    );
                }
            }
        }
        eprintln!("{file}/{variant}: {} of {} seeds fail", failures.len(), scenario.seeds.end - scenario.seeds.start);
    }
}

#[test]
fn validator_double_lock() {
    check("validator_double_lock");
}
