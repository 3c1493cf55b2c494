//! The adapters model's scenarios: every variant over each file's seeds against the file's
//! `[[expect]]`s (until the generic harness on main covers them), and a matrix printer.

use racelab::prelude::*;
use racelab::scenario::Expected;
use std::collections::BTreeMap;
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
        .filter(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains("model = \"adapters\"")))
        .map(|p| Scenario::load(p).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

/// Failing seeds by the check that failed, and the first failing seed with its verdict.
fn sweep(scenario: &Scenario, variant: &str) -> (BTreeMap<String, u64>, Option<(u64, Verdict)>) {
    let mut sim = Sim::new(scenario, variant).unwrap_or_else(|e| panic!("{e}"));
    let mut fails = BTreeMap::new();
    let mut first = None;
    for seed in scenario.seeds.clone() {
        let out = sim.seed(seed);
        if let Some(check) = out.verdict.failed_check() {
            *fails.entry(check.to_owned()).or_insert(0) += 1;
            first.get_or_insert((seed, out.verdict.clone()));
        }
    }
    (fails, first)
}

#[test]
fn every_expectation_holds() {
    let scenarios = adapters_scenarios();
    assert!(scenarios.len() >= 6, "the six scenarios of issue 5 are shipped");
    let mut problems = Vec::new();
    for scenario in &scenarios {
        for variant in &scenario.variants {
            let Some(expect) = scenario.expectation(variant) else {
                problems.push(format!("{}: no expectation for `{variant}`", scenario.name));
                continue;
            };
            let (fails, first) = sweep(scenario, variant);
            let ok = match &expect.expected {
                Expected::Holds => fails.is_empty(),
                Expected::Violates(names) => !fails.is_empty() && fails.keys().all(|k| names.contains(k)),
            };
            if !ok {
                problems.push(format!(
                    "{} / {variant}: expected {:?}, got failures {fails:?} (first: {first:?})",
                    scenario.name, expect.expected
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `cargo test --test adapters_scenarios -- --ignored --nocapture` prints the matrix.
#[test]
#[ignore]
fn print_matrix() {
    for scenario in adapters_scenarios() {
        println!("== {} (seeds {:?})", scenario.name, scenario.seeds);
        for variant in &scenario.variants {
            let t = std::time::Instant::now();
            let (fails, first) = sweep(&scenario, variant);
            let runs = (scenario.seeds.end - scenario.seeds.start) as f64;
            println!(
                "  {variant:22} {fails:?} first={:?} ({:.0} runs/s)",
                first.map(|(s, v)| (s, v.summary())),
                runs / t.elapsed().as_secs_f64()
            );
        }
    }
}
