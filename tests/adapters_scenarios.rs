//! The adapters model's scenarios against their `[[expect]]`s, over each file's seeds, and a
//! matrix printer (`cargo test --test adapters_scenarios -- --ignored --nocapture`).

use racelab::explore::run::{judge, run_variant};
use racelab::prelude::*;
use std::path::Path;

fn adapters_scenarios() -> Vec<Scenario> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("scenarios/ exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| Scenario::load(p).unwrap_or_else(|e| panic!("{e}")))
        .filter(|s| s.model == "adapters")
        .collect()
}

#[test]
fn the_issue_scenarios_are_shipped() {
    let names: Vec<String> = adapters_scenarios().into_iter().map(|s| s.name).collect();
    for wanted in [
        "clone_loses_callbacks",
        "auth_recovery_chain",
        "leave_channel_zombie",
        "health_check_eats_messages",
        "silent_connection",
        "persistent_reconnect_failure",
    ] {
        assert!(names.iter().any(|n| n == wanted), "{wanted} missing from {names:?}");
    }
}

#[test]
fn every_variant_meets_its_expectation() {
    let mut problems = Vec::new();
    for scenario in adapters_scenarios() {
        assert_eq!(scenario.variants.len(), 8, "{}: every variant is run", scenario.name);
        for variant in &scenario.variants {
            let report = run_variant(&scenario, variant, scenario.seeds.clone()).unwrap_or_else(|e| panic!("{e}"));
            if let Err(why) = judge(&scenario, &report) {
                problems.push(format!("{} / {variant}: {why}", scenario.name));
            }
        }
    }
    assert!(problems.is_empty(), "expectations not met:\n{}", problems.join("\n"));
}

#[test]
#[ignore]
fn print_matrix() {
    for scenario in adapters_scenarios() {
        println!("== {} (seeds {:?})", scenario.name, scenario.seeds);
        for variant in &scenario.variants {
            let r = run_variant(&scenario, variant, scenario.seeds.clone()).unwrap_or_else(|e| panic!("{e}"));
            let first = r.first_failure.as_ref().map(|o| (o.seed, o.verdict.summary()));
            println!("  {variant:22} {:?} first={first:?} ({:.0} runs/s)", r.failures, r.runs_per_sec);
        }
    }
}
