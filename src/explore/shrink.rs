//! Shrinking: the shortest explanation of a failure.
//!
//! A failing tape is rewritten toward calm values, keeping each edit that still fails the
//! same way (the same invariant, monitor or limit), until no single edit helps: delta
//! debugging on the choice sequence, as Hypothesis shrinks its choice sequences. Edited tapes
//! are run under [`ReplayMode::Lenient`] (a choice the tape no longer fits takes its calm
//! value), and each accepted run is re-recorded, so the tape kept is always one that the
//! program really asked for and replays exactly under strict replay.
//!
//! Edits, in the order they are tried: everything calm at once; blocks of non-calm choices
//! set calm (halving the block size down to one, as ddmin does); non-calm choices deleted
//! (later choices then answer earlier questions, which Lenient replay allows); and each
//! remaining value lowered (to 1, halved, minus one). An edit is kept only if the re-recorded
//! tape is smaller in (non-calm choices, length, sum of values), so shrinking always ends.

use crate::engine::replay::{Failure, Shrunk};
use crate::engine::tape::{Choice, ReplayMode, Tape, non_calm};
use crate::engine::{Outcome, Sim, TraceLevel};
use crate::scenario::{Scenario, ScenarioError};

/// Measures of one run, before or after shrinking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Measure {
    /// Non-calm choices (every decision that differs from the calmest run).
    pub faults: usize,
    /// Choices on the tape.
    pub choices: usize,
    /// Events in the full trace.
    pub events: usize,
    /// The last tick.
    pub ticks: u64,
}

/// What shrinking produced.
#[derive(Clone, Debug)]
pub struct ShrinkReport {
    /// The original run.
    pub before: Measure,
    /// The shrunk run.
    pub after: Measure,
    /// Runs made while shrinking.
    pub runs: u64,
    /// Whether the run budget ended the search before no edit helped.
    pub budget_cut: bool,
    /// The shrunk failure (its tape replays strictly to `outcome`).
    pub failure: Failure,
    /// The shrunk run's outcome.
    pub outcome: Outcome,
}

/// Why a failure could not be shrunk.
#[derive(Debug)]
pub enum ShrinkError {
    /// The scenario or variant does not build.
    Scenario(ScenarioError),
    /// The failure is not a failure of an invariant, monitor or limit.
    NotAFailure(String),
    /// Its tape no longer reproduces it (the scenario or model changed).
    DoesNotReproduce(String),
}

impl std::fmt::Display for ShrinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ShrinkError::Scenario(e) => write!(f, "{e}"),
            ShrinkError::NotAFailure(v) => write!(f, "nothing to shrink: the saved verdict is `{v}`"),
            ShrinkError::DoesNotReproduce(why) => write!(f, "the failure does not reproduce: {why}"),
        }
    }
}

/// Limits of a shrink.
#[derive(Clone, Copy, Debug)]
pub struct ShrinkConfig {
    /// Stop editing after this many runs.
    pub max_runs: u64,
}

impl Default for ShrinkConfig {
    fn default() -> Self {
        ShrinkConfig { max_runs: 20_000 }
    }
}

type Key = (usize, usize, u64);

fn key(tape: &[Choice]) -> Key {
    (non_calm(tape), tape.len(), tape.iter().map(|c| u64::from(c.value)).sum())
}

struct Shrinker<'a> {
    sim: Sim,
    check: &'a str,
    best: Vec<Choice>,
    runs: u64,
    max_runs: u64,
}

impl Shrinker<'_> {
    fn out_of_budget(&self) -> bool {
        self.runs >= self.max_runs
    }

    /// Run `candidate` leniently; keep its re-recorded tape if it fails the same way and is smaller.
    fn try_tape(&mut self, candidate: Vec<Choice>) -> bool {
        if self.out_of_budget() {
            return false;
        }
        self.runs += 1;
        let outcome = self.sim.run(Tape::replay(candidate, ReplayMode::Lenient), 0);
        if outcome.verdict.failed_check() != Some(self.check) {
            return false;
        }
        let recorded = self.sim.choices();
        if key(recorded) < key(&self.best) {
            self.best = recorded.to_vec();
            true
        } else {
            false
        }
    }

    fn calm_positions(&self) -> Vec<usize> {
        self.best.iter().enumerate().filter(|(_, c)| c.value != 0).map(|(i, _)| i).collect()
    }

    /// Set blocks of non-calm choices calm, halving the block size down to one.
    fn zero_blocks(&mut self) -> bool {
        let mut any = false;
        let mut size = self.calm_positions().len().div_ceil(2).max(1);
        loop {
            let mut i = 0;
            loop {
                let faults = self.calm_positions();
                if i >= faults.len() || self.out_of_budget() {
                    break;
                }
                let mut candidate = self.best.clone();
                for &p in &faults[i..(i + size).min(faults.len())] {
                    candidate[p].value = 0;
                }
                if self.try_tape(candidate) {
                    any = true;
                } else {
                    i += size;
                }
            }
            if size == 1 || self.out_of_budget() {
                return any;
            }
            size = size.div_ceil(2);
        }
    }

    /// Delete single non-calm choices (and the block up to the next non-calm one).
    fn delete(&mut self) -> bool {
        let mut any = false;
        let mut j = 0;
        loop {
            let faults = self.calm_positions();
            if j >= faults.len() || self.out_of_budget() {
                return any;
            }
            let p = faults[j];
            let mut candidate = self.best.clone();
            candidate.remove(p);
            if self.try_tape(candidate) {
                any = true;
                continue;
            }
            let end = faults.get(j + 1).copied().unwrap_or(self.best.len());
            if end > p + 1 {
                let mut candidate = self.best.clone();
                candidate.drain(p..end);
                if self.try_tape(candidate) {
                    any = true;
                    continue;
                }
            }
            j += 1;
        }
    }

    /// Lower each non-calm value: to 1, halved, minus one.
    fn lower(&mut self) -> bool {
        let mut any = false;
        let mut j = 0;
        loop {
            let faults = self.calm_positions();
            if j >= faults.len() || self.out_of_budget() {
                return any;
            }
            let p = faults[j];
            let v = self.best[p].value;
            let mut improved = false;
            for w in [1, v / 2, v - 1] {
                if w == 0 || w >= v {
                    continue;
                }
                let mut candidate = self.best.clone();
                candidate[p].value = w;
                if self.try_tape(candidate) {
                    improved = true;
                    break;
                }
            }
            if improved {
                any = true;
            } else {
                j += 1;
            }
        }
    }
}

fn measure(sim: &mut Sim, tape: &[Choice], seed: u64) -> (Measure, Outcome) {
    sim.trace_level(TraceLevel::Full);
    let outcome = sim.run(Tape::replay(tape.to_vec(), ReplayMode::Strict), seed);
    sim.trace_level(TraceLevel::Hash);
    let m = Measure {
        faults: non_calm(tape),
        choices: tape.len(),
        events: sim.trace().events().len(),
        ticks: outcome.ticks,
    };
    (m, outcome)
}

/// Shrink `failure` of `scenario`. The result's tape replays strictly to a failure of the
/// same invariant (or monitor, or limit) and has no more non-calm choices than the original.
pub fn shrink(scenario: &Scenario, failure: &Failure, cfg: ShrinkConfig) -> Result<ShrinkReport, ShrinkError> {
    let check = match failure.verdict.failed_check() {
        Some("diverged") | None => return Err(ShrinkError::NotAFailure(failure.verdict.summary())),
        Some(c) => c,
    };
    let mut sim = Sim::new(scenario, &failure.variant).map_err(ShrinkError::Scenario)?;
    sim.record_tape(true);
    // The original, strictly; a tape from an older model version gets one lenient chance.
    let strict = sim.run(Tape::replay(failure.tape.clone(), ReplayMode::Strict), failure.seed);
    let original = if strict.verdict.failed_check() == Some(check) {
        sim.choices().to_vec()
    } else {
        let lenient = sim.run(Tape::replay(failure.tape.clone(), ReplayMode::Lenient), failure.seed);
        if lenient.verdict.failed_check() != Some(check) {
            return Err(ShrinkError::DoesNotReproduce(format!(
                "saved {}, replayed {}",
                failure.verdict.summary(),
                strict.verdict.summary()
            )));
        }
        sim.choices().to_vec()
    };
    let (before, _) = measure(&mut sim, &original, failure.seed);
    let mut s = Shrinker { sim, check, best: original.clone(), runs: 0, max_runs: cfg.max_runs };
    if !s.try_tape(Vec::new()) {
        loop {
            let mut changed = s.zero_blocks();
            changed |= s.delete();
            changed |= s.lower();
            if !changed || s.out_of_budget() {
                break;
            }
        }
    }
    let budget_cut = s.out_of_budget();
    let (runs, best) = (s.runs, std::mem::take(&mut s.best));
    let mut sim = s.sim;
    let (after, outcome) = measure(&mut sim, &best, failure.seed);
    if outcome.verdict.failed_check() != Some(check) {
        // Determinism makes this unreachable; say so plainly if it ever is not.
        return Err(ShrinkError::DoesNotReproduce(format!(
            "the shrunk tape replayed to {} (a determinism bug)",
            outcome.verdict.summary()
        )));
    }
    let shrunk = Failure {
        file: failure.file.clone(),
        scenario: failure.scenario.clone(),
        variant: failure.variant.clone(),
        seed: failure.seed,
        strategy: failure.strategy.clone(),
        params: failure.params.clone(),
        verdict: outcome.verdict.clone(),
        also: Failure::also_of(&outcome),
        trace_hash: outcome.trace_hash.clone(),
        tape: best,
        shrunk: Some(Shrunk {
            from_trace_hash: failure.trace_hash.clone(),
            faults: (before.faults, after.faults),
            choices: (before.choices, after.choices),
            events: (before.events, after.events),
            runs,
        }),
    };
    Ok(ShrinkReport { before, after, runs, budget_cut, failure: shrunk, outcome })
}

/// Shrink `failure` and return the simulation holding the shrunk run's full trace, to print.
pub fn shrink_and_trace(
    scenario: &Scenario,
    failure: &Failure,
    cfg: ShrinkConfig,
) -> Result<(ShrinkReport, Sim), ShrinkError> {
    let report = shrink(scenario, failure, cfg)?;
    let mut sim = Sim::new(scenario, &failure.variant).map_err(ShrinkError::Scenario)?;
    sim.trace_level(TraceLevel::Full);
    let outcome = sim.run(Tape::replay(report.failure.tape.clone(), ReplayMode::Strict), failure.seed);
    debug_assert_eq!(outcome.trace_hash, report.outcome.trace_hash);
    Ok((report, sim))
}
