//! `shrink`: the shortest explanation of a failure, as a strategy.
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

use super::{Execution, Flow, Next, Ran, Strategy};
use crate::engine::replay::{Failure, Shrunk};
use crate::engine::tape::{Choice, ReplayMode, Tape, non_calm};
use crate::engine::{Outcome, Sim, TraceLevel};
use crate::explore::pool;
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

fn fault_positions(tape: &[Choice]) -> Vec<usize> {
    tape.iter().enumerate().filter(|(_, c)| c.value != 0).map(|(i, _)| i).collect()
}

/// Where the shrinker is: one phase of its rounds, and the place within it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Replaying the original strictly (`lenient`: leniently, for a tape of an older model).
    Reproduce { lenient: bool },
    /// Trying the empty tape: every choice calm.
    Calm,
    /// Setting blocks of `size` non-calm choices calm, from the `i`-th.
    Zero { size: usize, i: usize },
    /// Deleting the `j`-th non-calm choice (`block`: and the calm ones after it).
    Delete { j: usize, block: bool },
    /// Lowering the `j`-th non-calm value, trying the `w`-th of (1, half, minus one).
    Lower { j: usize, w: usize },
    /// Finished (or the original does not reproduce).
    Done,
}

/// Shrinking as a strategy: it hands out one edited tape at a time (leniently replayed) and
/// keeps each whose run fails the same check and records a smaller tape. Its first runs
/// reproduce the original (probes, not counted against the budget).
pub struct Shrink {
    check: String,
    original: Vec<Choice>,
    reproduced_tape: Vec<Choice>,
    best: Vec<Choice>,
    seed: u64,
    phase: Phase,
    pending: bool,
    candidate: Vec<Choice>,
    changed: bool,
    runs: u64,
    max_runs: u64,
    reproduced: Option<bool>,
    /// What the original replayed to, when it did not reproduce.
    replayed: Option<String>,
}

impl Shrink {
    /// Shrink `failure`'s tape, keeping edits that still fail `check`.
    pub fn new(failure: &Failure, check: &str, cfg: ShrinkConfig) -> Shrink {
        Shrink {
            check: check.to_owned(),
            original: failure.tape.clone(),
            reproduced_tape: Vec::new(),
            best: Vec::new(),
            seed: failure.seed,
            phase: Phase::Reproduce { lenient: false },
            pending: false,
            candidate: Vec::new(),
            changed: false,
            runs: 0,
            max_runs: cfg.max_runs,
            reproduced: None,
            replayed: None,
        }
    }

    /// The smallest failing tape found (the re-recorded original until an edit is kept).
    pub fn best(&self) -> &[Choice] {
        &self.best
    }

    /// Edited runs made (the reproduction of the original not counted).
    pub fn runs(&self) -> u64 {
        self.runs
    }

    /// Whether the run budget ended the search before no edit helped.
    pub fn budget_cut(&self) -> bool {
        self.runs >= self.max_runs
    }

    /// Whether the original reproduced (`None` until its replay was observed).
    pub fn reproduced(&self) -> Option<bool> {
        self.reproduced
    }

    /// The next tape to try in the current phase, moving through phases as they run out.
    fn next_candidate(&mut self) -> Option<Vec<Choice>> {
        loop {
            if self.runs >= self.max_runs && !matches!(self.phase, Phase::Reproduce { .. }) {
                self.phase = Phase::Done;
            }
            match self.phase {
                Phase::Done => return None,
                Phase::Reproduce { .. } => return Some(self.original.clone()),
                Phase::Calm => return Some(Vec::new()),
                Phase::Zero { size, i } => {
                    let faults = fault_positions(&self.best);
                    if i >= faults.len() {
                        self.phase = if size == 1 {
                            Phase::Delete { j: 0, block: false }
                        } else {
                            Phase::Zero { size: size.div_ceil(2), i: 0 }
                        };
                        continue;
                    }
                    let mut candidate = self.best.clone();
                    for &p in &faults[i..(i + size).min(faults.len())] {
                        candidate[p].value = 0;
                    }
                    return Some(candidate);
                }
                Phase::Delete { j, block } => {
                    let faults = fault_positions(&self.best);
                    let Some(&p) = faults.get(j) else {
                        self.phase = Phase::Lower { j: 0, w: 0 };
                        continue;
                    };
                    let mut candidate = self.best.clone();
                    if !block {
                        candidate.remove(p);
                        return Some(candidate);
                    }
                    let end = faults.get(j + 1).copied().unwrap_or(self.best.len());
                    if end > p + 1 {
                        candidate.drain(p..end);
                        return Some(candidate);
                    }
                    self.phase = Phase::Delete { j: j + 1, block: false };
                }
                Phase::Lower { j, w } => {
                    let faults = fault_positions(&self.best);
                    let Some(&p) = faults.get(j) else {
                        // The end of a round: another if anything changed.
                        self.phase = if self.changed { self.round() } else { Phase::Done };
                        continue;
                    };
                    let v = self.best[p].value;
                    let tries: Vec<u32> = [1, v / 2, v - 1].into_iter().filter(|&x| x != 0 && x < v).collect();
                    let Some(&x) = tries.get(w) else {
                        self.phase = Phase::Lower { j: j + 1, w: 0 };
                        continue;
                    };
                    let mut candidate = self.best.clone();
                    candidate[p].value = x;
                    return Some(candidate);
                }
            }
        }
    }

    /// The start of a round: blocks of half the non-calm choices first.
    fn round(&mut self) -> Phase {
        self.changed = false;
        Phase::Zero { size: fault_positions(&self.best).len().div_ceil(2).max(1), i: 0 }
    }
}

impl Strategy for Shrink {
    fn name(&self) -> &'static str {
        "shrink"
    }

    fn new_execution(&mut self) -> Next {
        if self.pending {
            return Next::Wait;
        }
        let Some(candidate) = self.next_candidate() else { return Next::Done };
        self.pending = true;
        let (mode, probe) = match self.phase {
            Phase::Reproduce { lenient: false } => (ReplayMode::Strict, true),
            Phase::Reproduce { lenient: true } => (ReplayMode::Lenient, true),
            _ => (ReplayMode::Lenient, false),
        };
        if !probe {
            self.runs += 1;
            self.candidate = candidate.clone();
        }
        let execution = Execution::new(self.seed, Tape::replay(candidate, mode)).recorded();
        Next::Run(if probe { execution.probe() } else { execution })
    }

    fn observe(&mut self, ran: &Ran) -> Flow {
        self.pending = false;
        let same = ran.outcome.verdict.failed_check() == Some(self.check.as_str());
        let recorded = ran.choices.as_deref().unwrap_or_default();
        match self.phase {
            Phase::Reproduce { lenient } => {
                if same {
                    self.reproduced = Some(true);
                    self.best = recorded.to_vec();
                    self.reproduced_tape = self.best.clone();
                    self.phase = Phase::Calm;
                } else if !lenient {
                    self.replayed = Some(ran.outcome.verdict.summary());
                    self.phase = Phase::Reproduce { lenient: true };
                } else {
                    self.reproduced = Some(false);
                    self.phase = Phase::Done;
                }
                return Flow::Continue;
            }
            Phase::Done => return Flow::Continue,
            _ => {}
        }
        let kept = same && key(recorded) < key(&self.best);
        if kept {
            self.best = recorded.to_vec();
            self.changed = true;
        }
        self.phase = match self.phase {
            // Everything calm fails the same way: nothing is smaller.
            Phase::Calm if kept => Phase::Done,
            Phase::Calm => self.round(),
            Phase::Zero { size, i } => Phase::Zero { size, i: if kept { i } else { i + size } },
            Phase::Delete { j, block } => match (kept, block) {
                (true, _) => Phase::Delete { j, block: false },
                (false, false) => Phase::Delete { j, block: true },
                (false, true) => Phase::Delete { j: j + 1, block: false },
            },
            Phase::Lower { j, w } => Phase::Lower { j, w: if kept { 0 } else { w + 1 } },
            other => other,
        };
        Flow::Continue
    }

    fn planned(&self) -> Option<u64> {
        Some(self.max_runs)
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
    let mut s = Shrink::new(failure, check, cfg);
    pool::drive_one(&mut sim, &mut s, |_| true);
    if s.reproduced() != Some(true) {
        return Err(ShrinkError::DoesNotReproduce(format!(
            "saved {}, replayed {}",
            failure.verdict.summary(),
            s.replayed.clone().unwrap_or_else(|| "nothing".into())
        )));
    }
    let (before, _) = measure(&mut sim, &s.reproduced_tape, failure.seed);
    let budget_cut = s.budget_cut();
    let (runs, best) = (s.runs, std::mem::take(&mut s.best));
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
