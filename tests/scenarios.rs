//! Every shipped scenario: each variant's expectation over the file's seeds (under the
//! default strategy, as `racelab run` judges them), an insta snapshot of its outcome table,
//! and the canonical trace of the first failing seed of every failing (scenario, variant) pair.

use racelab::engine::Registry;
use racelab::engine::{Sim, TraceLevel};
use racelab::explore::run::{VariantReport, judge, run_variant};
use racelab::explore::strategy::{Spec, StrategyKind};
use racelab::report::jsonl;
use racelab::scenario::Scenario;
use std::fmt::Write as _;
use std::path::PathBuf;

fn scenario_files() -> Vec<PathBuf> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("scenarios/ exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

struct Checked {
    scenario: Scenario,
    reports: Vec<VariantReport>,
}

fn check(path: &PathBuf) -> Checked {
    let scenario = Scenario::load(&Registry::builtin(), path).unwrap_or_else(|e| panic!("{e}"));
    let reports = scenario
        .variants
        .iter()
        .map(|v| run_variant(&scenario, v, scenario.seeds.clone()).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    Checked { scenario, reports }
}

fn outcome_table(c: &Checked) -> String {
    let mut s = format!(
        "{} ({}), seeds {}..{}\n",
        c.scenario.name, c.scenario.model, c.scenario.seeds.start, c.scenario.seeds.end
    );
    for r in &c.reports {
        let failures: Vec<String> =
            r.failures.iter().map(|(k, (n, first))| format!("{k}: {n} (first seed {first})")).collect();
        let hash = r.first_failure.as_ref().map_or(&r.first_hash, |f| &f.trace_hash);
        let _ = writeln!(
            s,
            "{:<20} {:<6} trace {hash}  {}",
            r.variant,
            if failures.is_empty() { "pass" } else { "FAIL" },
            failures.join(", ")
        );
    }
    s
}

#[test]
fn every_scenario_meets_its_expectations_and_snapshots() {
    let files = scenario_files();
    assert!(files.len() >= 6, "the shipped scenarios are found");
    // Scenarios are independent: check them on two threads (the CI machine has two cores).
    let checked: Vec<Checked> = std::thread::scope(|scope| {
        let (a, b): (Vec<_>, Vec<_>) = files.iter().enumerate().partition(|(i, _)| i % 2 == 0);
        let ha = scope.spawn(move || a.into_iter().map(|(_, f)| check(f)).collect::<Vec<_>>());
        let hb = scope.spawn(move || b.into_iter().map(|(_, f)| check(f)).collect::<Vec<_>>());
        let mut all = ha.join().expect("thread a");
        all.extend(hb.join().expect("thread b"));
        all.sort_by(|x, y| x.scenario.name.cmp(&y.scenario.name));
        all
    });

    let mut problems = Vec::new();
    for c in &checked {
        for r in &c.reports {
            if let Err(why) = judge(&c.scenario, r) {
                problems.push(format!("{} / {}: {why}", c.scenario.name, r.variant));
            }
        }
    }
    assert!(problems.is_empty(), "expectations not met:\n{}", problems.join("\n"));

    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for c in &checked {
            insta::assert_snapshot!(format!("outcomes__{}", c.scenario.name), outcome_table(c));
            for r in &c.reports {
                let Some(first) = &r.first_failure else { continue };
                let mut sim = Sim::new(&c.scenario, &r.variant).expect("builds");
                sim.trace_level(TraceLevel::Full);
                // The seed as every command means it: under the default strategy.
                let out = Spec::new(StrategyKind::DEFAULT)
                    .run_seed(&mut sim, first.seed)
                    .expect("a seeded strategy has every seed")
                    .outcome;
                assert_eq!(out.trace_hash, first.trace_hash, "a full-trace re-run gives the same hash");
                assert_eq!(out.verdict, first.verdict);
                insta::assert_snapshot!(
                    format!("trace__{}__{}", c.scenario.name, r.variant),
                    jsonl::render(sim.trace(), sim.names(), &out)
                );
            }
        }
    });
}
