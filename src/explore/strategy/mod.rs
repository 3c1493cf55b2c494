//! Strategies: every way of choosing runs, one file each behind one trait, [`Strategy`].
//!
//! A strategy lives across runs, as a scheduler does in awslabs/shuttle
//! (`Scheduler::new_execution` hands out the next schedule or says there is none): it hands
//! out the next run's tape ([`Strategy::new_execution`]), is told what each run did
//! ([`Strategy::observe`]), and says when it is done. Seeded strategies (`random`, `swarm`,
//! `pct`) hand out one run per seed; `bounded` and `exhaustive` search, each next run
//! depending on what earlier runs asked for; `replay` hands out one recorded tape; `shrink`
//! hands out edits of a failing tape until none helps.
//!
//! Within one run the values come from the engine's per-run decider
//! ([`crate::engine::tape::Strategy`], named [`Decide`] here), which each execution's
//! [`Tape`] carries; this trait decides which runs happen, that one decides one run's values.
//!
//! Strategies are driven by [`crate::explore::pool`]: in parallel over many (scenario,
//! variant) pairs, or one after the other on one simulation. Either way a strategy sees its
//! runs' results in the order it handed them out, so what it hands out, and what a sweep
//! reports, does not depend on the number of workers.

pub mod bounded;
pub mod exhaustive;
pub mod pct;
pub mod random;
pub mod replay;
pub mod shrink;
pub mod swarm;

use crate::engine::replay::Failure;
use crate::engine::tape::Choice;
pub use crate::engine::tape::Strategy as Decide;
use crate::engine::{Outcome, Sim, Tape};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::Range;
use std::str::FromStr;

/// One run a strategy asks for.
pub struct Execution {
    /// The run's number under its strategy: the seed of a seeded strategy, the place in the
    /// search order (from 0, the calm run) of a search. `racelab run --strategy S --seed N`
    /// runs exactly this run.
    pub seed: u64,
    /// The tape that decides the run's choices.
    pub tape: Tape,
    /// Whether the strategy needs the run's choices to plan later runs (they come back in
    /// [`Ran::choices`]; a failing run's choices always do).
    pub record: bool,
    /// A run the strategy makes for itself (PCT's probe runs, shrinking's reproduction of
    /// the original): observed, but neither counted nor reported.
    pub probe: bool,
    /// What the strategy knows of the run up front, for failure files (bounded search: its
    /// deviations). `null`: taken from the tape's decider after the run.
    pub params: serde_json::Value,
}

impl Execution {
    /// A counted run numbered `seed`, deciding with `tape`.
    pub fn new(seed: u64, tape: Tape) -> Execution {
        Execution { seed, tape, record: false, probe: false, params: serde_json::Value::Null }
    }

    /// The same, with its choices sent back to [`Strategy::observe`].
    pub fn recorded(mut self) -> Execution {
        self.record = true;
        self
    }

    /// The same, as a probe (observed, not counted or reported).
    pub fn probe(mut self) -> Execution {
        self.probe = true;
        self
    }

    /// The same, with `params` for failure files.
    pub fn with_params(mut self, params: serde_json::Value) -> Execution {
        self.params = params;
        self
    }
}

/// What a strategy hands out next.
// Handed out once per run and moved straight into a job: boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
pub enum Next {
    /// This run.
    Run(Execution),
    /// Nothing until the runs handed out so far have been observed.
    Wait,
    /// No more runs.
    Done,
}

/// Whether a strategy wants the runs after the one it just observed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Go on.
    Continue,
    /// Stop: runs handed out after this one are dropped unreported (a search that found what
    /// it looked for).
    Stop,
}

/// A finished run, as a strategy observes it.
#[derive(Clone, Debug)]
pub struct Ran {
    /// Its number (see [`Execution::seed`]).
    pub seed: u64,
    /// Whether it was a probe.
    pub probe: bool,
    /// What it did.
    pub outcome: Outcome,
    /// Its choices, if the execution asked for them or the run failed.
    pub choices: Option<Vec<Choice>>,
    /// The execution's params, or the tape decider's after the run.
    pub params: serde_json::Value,
}

impl Ran {
    /// Whether the run failed (broke an invariant or monitor, hit a limit, or diverged).
    pub fn failed(&self) -> bool {
        !self.outcome.verdict.is_pass()
    }

    /// The run as a failure file: `file` is the scenario file as given, `strategy` the name
    /// of the strategy that chose it.
    pub fn failure(&self, file: &str, strategy: &str) -> Failure {
        Failure {
            file: file.to_owned(),
            scenario: self.outcome.scenario.clone(),
            variant: self.outcome.variant.clone(),
            seed: self.seed,
            strategy: strategy.to_owned(),
            params: self.params.clone(),
            verdict: self.outcome.verdict.clone(),
            also: Failure::also_of(&self.outcome),
            trace_hash: self.outcome.trace_hash.clone(),
            tape: self.choices.clone().unwrap_or_default(),
            shrunk: None,
        }
    }
}

/// A way of choosing runs that lives across them.
///
/// The contract that keeps results independent of how many workers run them: the runs a
/// strategy hands out may depend only on the observations it has been given, which come in
/// the order it handed the runs out. When the next run depends on a run not yet observed,
/// it answers [`Next::Wait`] rather than guess; runs it hands out without waiting may run in
/// parallel.
pub trait Strategy: Send {
    /// The name written into failure files and accepted by `--strategy`.
    fn name(&self) -> &'static str;

    /// The next run, [`Next::Wait`], or [`Next::Done`].
    fn new_execution(&mut self) -> Next;

    /// What a run handed out did, in the order they were handed out.
    fn observe(&mut self, ran: &Ran) -> Flow;

    /// How many counted runs the strategy will make at most, if known (for progress).
    fn planned(&self) -> Option<u64> {
        None
    }

    /// What the strategy concluded, for people (a search's certificate), once it is done or
    /// stopped. `None` for strategies whose runs speak for themselves.
    fn conclusion(&self) -> Option<String> {
        None
    }

    /// Why the strategy gave up, if it did: a run did not replay what an earlier run with
    /// the same first choices asked (the model is not deterministic), so its counts mean nothing.
    fn abandoned(&self) -> Option<String> {
        None
    }
}

impl<S: Strategy + ?Sized> Strategy for &mut S {
    fn name(&self) -> &'static str {
        (**self).name()
    }
    fn new_execution(&mut self) -> Next {
        (**self).new_execution()
    }
    fn observe(&mut self, ran: &Ran) -> Flow {
        (**self).observe(ran)
    }
    fn planned(&self) -> Option<u64> {
        (**self).planned()
    }
    fn conclusion(&self) -> Option<String> {
        (**self).conclusion()
    }
    fn abandoned(&self) -> Option<String> {
        (**self).abandoned()
    }
}

/// Which strategy decides the runs (`--strategy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StrategyKind {
    /// Uniform within the fault plan.
    Random,
    /// Each run draws its own fault rates and which fault kinds are on.
    Swarm,
    /// Random priorities per sender with a few priority change points.
    Pct,
    /// The calm run, then every run with 1, 2, ... choices away from calm.
    Bounded,
    /// Every tape, depth-first.
    Exhaustive,
}

impl StrategyKind {
    /// Every strategy, in the order reports list them.
    pub const ALL: [StrategyKind; 5] =
        [StrategyKind::Random, StrategyKind::Swarm, StrategyKind::Pct, StrategyKind::Bounded, StrategyKind::Exhaustive];

    /// The strategies that draw each run from its seed.
    pub const SEEDED: [StrategyKind; 3] = [StrategyKind::Random, StrategyKind::Swarm, StrategyKind::Pct];

    /// The default of every command (`run`, `sweep`, `explain`, `matrix`), so that a seed
    /// means one run whichever command is given it: the seeded strategy that found the known
    /// races in the fewest seeds in `benches/explore.rs` (docs/explore-bench.md): over the 25
    /// failing variants where some seeded strategy needs more than one seed, PCT needed 0.81
    /// times the seeds random needed (geometric mean of the medians; swarm 1.34) and was
    /// fastest in 19 of them. (The library's [`crate::engine::Sim::seed`] is the engine's own
    /// random decider; `Spec::new(StrategyKind::DEFAULT).run_seed` is the commands' seed.)
    pub const DEFAULT: StrategyKind = StrategyKind::Pct;

    /// The name on the command line and in failure files.
    pub fn name(self) -> &'static str {
        match self {
            StrategyKind::Random => "random",
            StrategyKind::Swarm => "swarm",
            StrategyKind::Pct => "pct",
            StrategyKind::Bounded => "bounded",
            StrategyKind::Exhaustive => "exhaustive",
        }
    }

    /// Whether a seed is drawn from (random, swarm, pct) rather than a place in a search.
    pub fn is_seeded(self) -> bool {
        StrategyKind::SEEDED.contains(&self)
    }
}

impl fmt::Display for StrategyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for StrategyKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        StrategyKind::ALL.into_iter().find(|k| k.name() == s).ok_or_else(|| {
            let names: Vec<&str> = StrategyKind::ALL.iter().map(|k| k.name()).collect();
            format!("unknown strategy `{s}`; expected one of: {}", names.join(", "))
        })
    }
}

/// The seeds a seeded strategy runs: a range, or every `count`-th of it from its `index`-th
/// (a shard).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seeds {
    /// The whole range.
    pub range: Range<u64>,
    /// This part's index, `0..count`.
    pub index: u64,
    /// How many parts.
    pub count: u64,
}

impl Seeds {
    /// Every seed of `range`.
    pub fn range(range: Range<u64>) -> Seeds {
        Seeds { range, index: 0, count: 1 }
    }

    /// How many seeds.
    pub fn len(&self) -> u64 {
        let total = self.range.end.saturating_sub(self.range.start);
        if self.index >= total { 0 } else { (total - self.index).div_ceil(self.count.max(1)) }
    }

    /// Whether there is no seed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`-th seed.
    pub fn get(&self, i: u64) -> u64 {
        self.range.start + self.index + i * self.count.max(1)
    }
}

/// How to build a strategy: which one and its settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Spec {
    /// Which strategy.
    pub kind: StrategyKind,
    /// PCT's bug depth.
    pub pct_depth: u32,
    /// Bounded search's bounds.
    pub bounded: bounded::Bounds,
    /// Exhaustive search's bounds.
    pub exhaustive: exhaustive::Bounds,
}

impl Spec {
    /// `kind` with its default settings.
    pub fn new(kind: StrategyKind) -> Spec {
        Spec {
            kind,
            pct_depth: pct::DEFAULT_DEPTH,
            bounded: bounded::Bounds::default(),
            exhaustive: exhaustive::Bounds::default(),
        }
    }

    /// The strategy for `seeds`. A seeded strategy runs those seeds; a search runs its runs
    /// numbered `0..seeds.range.end` (the caller skips those below the start), going on past
    /// failures, so that run `N` is the same run whether or not an earlier one failed.
    pub fn over(&self, seeds: Seeds) -> Box<dyn Strategy> {
        match self.kind {
            StrategyKind::Random => Box::new(random::Random::new(seeds)),
            StrategyKind::Swarm => Box::new(swarm::SwarmRuns::new(seeds)),
            StrategyKind::Pct => Box::new(pct::PctRuns::new(seeds, self.pct_depth)),
            StrategyKind::Bounded => {
                let bounds =
                    bounded::Bounds { budget: seeds.range.end, max_deviations: u32::MAX, stop_at_failure: false };
                Box::new(bounded::Bounded::new(bounds))
            }
            StrategyKind::Exhaustive => {
                let bounds = exhaustive::Bounds { max_tapes: seeds.range.end, ..self.exhaustive };
                Box::new(exhaustive::Exhaustive::new(bounds).going_on())
            }
        }
    }

    /// The strategy that hunts: a seeded strategy over `seeds`; a search within its own
    /// bounds, stopping at its first failure (`seeds` do not apply).
    pub fn hunt(&self, seeds: Seeds) -> Box<dyn Strategy> {
        match self.kind {
            StrategyKind::Bounded => Box::new(bounded::Bounded::new(self.bounded)),
            StrategyKind::Exhaustive => Box::new(exhaustive::Exhaustive::new(self.exhaustive)),
            _ => self.over(seeds),
        }
    }

    /// The strategy that makes only run `seed` (and whatever runs a search needs before it
    /// to know what run `seed` is).
    pub fn only(&self, seed: u64) -> Box<dyn Strategy> {
        match self.kind {
            StrategyKind::Bounded => {
                let mut b = bounded::Bounded::new(bounded::Bounds {
                    budget: seed.saturating_add(1),
                    max_deviations: u32::MAX,
                    stop_at_failure: false,
                });
                b.seek(seed);
                Box::new(b)
            }
            _ => self.over(Seeds::range(seed..seed.saturating_add(1))),
        }
    }

    /// Make run `seed` of this strategy on `sim` (after whatever runs a search needs to know
    /// what run `seed` is), and return it with its choices. `None` if the strategy has no
    /// such run (a search with fewer runs).
    pub fn run_seed(&self, sim: &mut Sim, seed: u64) -> Option<Ran> {
        let mut strategy = self.only(seed);
        let mut found = None;
        crate::explore::pool::drive_one(sim, strategy.as_mut(), |ran| {
            if ran.seed == seed {
                found = Some(ran.clone());
                return false;
            }
            true
        });
        // The run just made is the last one the simulation ran: its choices are there.
        found.map(|mut ran| {
            ran.choices = Some(sim.choices().to_vec());
            ran
        })
    }
}

/// The seeds a seeded strategy has still to hand out, in order.
pub(crate) struct SeedRuns {
    seeds: Seeds,
    next: u64,
}

impl SeedRuns {
    pub(crate) fn new(seeds: Seeds) -> SeedRuns {
        SeedRuns { seeds, next: 0 }
    }

    /// The next seed, if any is left.
    pub(crate) fn next_seed(&mut self) -> Option<u64> {
        if self.next >= self.seeds.len() {
            return None;
        }
        self.next += 1;
        Some(self.seeds.get(self.next - 1))
    }

    pub(crate) fn planned(&self) -> u64 {
        self.seeds.len()
    }
}

/// A 64-bit FNV-1a hash, to derive per-label streams that do not depend on the order labels
/// are met in.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_split_the_seeds() {
        let s = Seeds { range: 3..13, index: 1, count: 3 };
        assert_eq!((0..s.len()).map(|i| s.get(i)).collect::<Vec<_>>(), vec![4, 7, 10]);
        assert!(Seeds { range: 0..2, index: 2, count: 3 }.is_empty());
    }
}
