//! Run a scenario's variants over a range of seeds and judge its expectations.

use crate::engine::{Outcome, Sim, TraceLevel};
use crate::explore::pool::drive_one;
use crate::explore::strategy::{Seeds, Spec, StrategyKind};
use crate::scenario::{Expected, Scenario, ScenarioError};
use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// What one variant did over a seed range.
#[derive(Clone, Debug)]
pub struct VariantReport {
    /// The variant.
    pub variant: String,
    /// Seeds run.
    pub runs: u64,
    /// Every invariant, monitor or limit any seed failed: how many seeds failed it, and the
    /// first seed that did.
    pub failures: BTreeMap<String, (u64, u64)>,
    /// Seeds that failed anything.
    pub failed_seeds: u64,
    /// The outcome of the first failing seed, if any.
    pub first_failure: Option<Outcome>,
    /// Trace hash of the first seed (a pass or not), for the record.
    pub first_hash: String,
    /// Runs per second (wall clock of the CLI, never inside a run).
    pub runs_per_sec: f64,
}

impl VariantReport {
    /// Number of failing seeds.
    pub fn failed(&self) -> u64 {
        self.failed_seeds
    }
}

/// Run `variant` of `scenario` over `seeds` under the default strategy (what `racelab run`
/// does without `--strategy`).
pub fn run_variant(scenario: &Scenario, variant: &str, seeds: Range<u64>) -> Result<VariantReport, ScenarioError> {
    run_variant_with(scenario, variant, seeds, &Spec::new(StrategyKind::DEFAULT))
}

/// Run `variant` of `scenario` over `seeds` under `strategy` (for a search: its runs
/// numbered `seeds`).
pub fn run_variant_with(
    scenario: &Scenario,
    variant: &str,
    seeds: Range<u64>,
    strategy: &Spec,
) -> Result<VariantReport, ScenarioError> {
    run_variant_until(scenario, variant, seeds, strategy, &AtomicBool::new(false))
}

/// [`run_variant_with`], stopping after the run in progress once `stop` is raised (Ctrl-C,
/// SIGTERM): the report then covers the seeds that ran (`runs` says how many).
pub fn run_variant_until(
    scenario: &Scenario,
    variant: &str,
    seeds: Range<u64>,
    strategy: &Spec,
    stop: &AtomicBool,
) -> Result<VariantReport, ScenarioError> {
    let mut sim = Sim::new(scenario, variant)?;
    sim.trace_level(TraceLevel::Hash);
    let start = Instant::now();
    let mut report = VariantReport {
        variant: variant.to_owned(),
        runs: 0,
        failures: BTreeMap::new(),
        failed_seeds: 0,
        first_failure: None,
        first_hash: String::new(),
        runs_per_sec: 0.0,
    };
    let mut runs = strategy.over(Seeds::range(seeds.clone()));
    drive_one(&mut sim, runs.as_mut(), |ran| {
        if ran.seed < seeds.start {
            return true;
        }
        let out = &ran.outcome;
        if report.runs == 0 {
            report.first_hash = out.trace_hash.clone();
        }
        report.runs += 1;
        let checks = out.checks();
        if !checks.is_empty() {
            report.failed_seeds += 1;
            for check in checks {
                report.failures.entry(check.to_owned()).or_insert((0, ran.seed)).0 += 1;
            }
            if report.first_failure.is_none() {
                report.first_failure = Some(out.clone());
            }
        }
        !stop.load(Ordering::Relaxed)
    });
    let secs = start.elapsed().as_secs_f64();
    report.runs_per_sec = if secs > 0.0 { report.runs as f64 / secs } else { 0.0 };
    Ok(report)
}

/// Whether `report` meets the scenario's expectation for its variant. `Err` says why not.
pub fn judge(scenario: &Scenario, report: &VariantReport) -> Result<(), String> {
    let Some(exp) = scenario.expectation(&report.variant) else {
        return Err(format!("no [[expect]] for variant `{}`", report.variant));
    };
    match &exp.expected {
        Expected::Holds => match report.failures.iter().next() {
            None => Ok(()),
            Some((check, (n, seed))) => {
                Err(format!("expected to hold, but {n} seeds failed {check} (first: seed {seed})"))
            }
        },
        Expected::Violates(names) => {
            if let Some((check, (n, seed))) = report.failures.iter().find(|(c, _)| !names.contains(c)) {
                return Err(format!(
                    "expected exactly {} to fail, but {n} seeds also failed {check} (first: seed {seed})",
                    names.join(", ")
                ));
            }
            never_broken(report, names)
        }
        Expected::Includes(names) => never_broken(report, names),
    }
}

/// `Err` naming the first of `names` that no seed broke.
fn never_broken(report: &VariantReport, names: &[String]) -> Result<(), String> {
    let Some(n) = names.iter().find(|n| !report.failures.contains_key(*n)) else { return Ok(()) };
    if report.failures.is_empty() {
        return Err(format!("expected {n} to fail, but all {} seeds passed", report.runs));
    }
    let seen: Vec<&str> = report.failures.keys().map(String::as_str).collect();
    Err(format!("expected {n} to fail, but none of {} seeds did (they failed: {})", report.runs, seen.join(", ")))
}
