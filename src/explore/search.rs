//! Exhaustive search of many (scenario, variant) pairs on a pool of workers: what
//! `racelab sweep --strategy exhaustive` runs instead of seeds.
//!
//! Each pair is searched depth-first by [`exhaustive::explore`] on one worker (a search is
//! sequential: the next tape depends on the last); pairs run in parallel, and their results
//! are reported in the order of the targets, each as soon as the pairs before it are done.

use crate::engine::replay::Failure;
use crate::engine::{Sim, TraceLevel};
use crate::explore::exhaustive::{self, Bounds, Report};
use crate::explore::sweep::Target;
use crate::scenario::ScenarioError;
use crossbeam_channel::unbounded;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The search of one pair.
#[derive(Clone, Debug)]
pub struct Searched {
    /// Index into the targets.
    pub target: usize,
    /// What the search found.
    pub report: Report,
    /// The failing run as a failure file (strategy `exhaustive`, seed = its tape number).
    pub failure: Option<Failure>,
    /// Wall time of the search.
    pub elapsed: Duration,
}

/// The failure file of a search's failing run.
pub fn failure_of(target: &Target, report: &Report) -> Option<Failure> {
    let f = report.failure.as_ref()?;
    Some(Failure {
        file: target.file.clone(),
        scenario: f.outcome.scenario.clone(),
        variant: f.outcome.variant.clone(),
        seed: f.index,
        strategy: "exhaustive".into(),
        params: serde_json::json!({
            "tape_number": f.index,
            "max_tapes": report.bounds.max_tapes,
            "max_depth": report.bounds.max_depth,
        }),
        verdict: f.outcome.verdict.clone(),
        also: Failure::also_of(&f.outcome),
        trace_hash: f.outcome.trace_hash.clone(),
        tape: f.tape.clone(),
        shrunk: None,
    })
}

/// Search every target within `bounds` on `jobs` workers, calling `each` in target order.
/// Raising `stop` skips the pairs not yet started (a search under way runs to its bound).
pub fn search(
    targets: &[Target],
    bounds: Bounds,
    jobs: usize,
    stop: &AtomicBool,
    mut each: impl FnMut(&Searched),
) -> Result<Vec<Searched>, ScenarioError> {
    let next = AtomicUsize::new(0);
    let halt = AtomicBool::new(false);
    let (tx, rx) = unbounded::<Result<Searched, ScenarioError>>();
    let mut done: Vec<Searched> = Vec::new();
    let mut error = None;
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, targets.len().max(1)) {
            let tx = tx.clone();
            let (next, halt) = (&next, &halt);
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(target) = targets.get(i) else { break };
                    if stop.load(Ordering::Relaxed) || halt.load(Ordering::Relaxed) {
                        break;
                    }
                    let start = Instant::now();
                    let result = Sim::new(&target.scenario, &target.variant).map(|mut sim| {
                        sim.trace_level(TraceLevel::Hash);
                        let report = exhaustive::explore(&mut sim, bounds);
                        let failure = failure_of(target, &report);
                        Searched { target: i, report, failure, elapsed: start.elapsed() }
                    });
                    let failed = result.is_err();
                    if tx.send(result).is_err() || failed {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut pending = BTreeMap::new();
        let mut want = 0;
        for r in rx {
            match r {
                Ok(s) => {
                    pending.insert(s.target, s);
                    while let Some(s) = pending.remove(&want) {
                        want += 1;
                        each(&s);
                        done.push(s);
                    }
                }
                Err(e) => {
                    halt.store(true, Ordering::Relaxed);
                    error.get_or_insert(e);
                }
            }
        }
        // Interrupted: report what finished after a gap, still in order.
        for (_, s) in pending {
            each(&s);
            done.push(s);
        }
    });
    match error {
        Some(e) => Err(e),
        None => Ok(done),
    }
}
