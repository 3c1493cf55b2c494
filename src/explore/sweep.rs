//! Sweeps: many runs of many (scenario, variant) pairs on the worker pool.
//!
//! Each pair gets its own strategy (seeds under random, swarm or pct; a bounded or an
//! exhaustive search), and [`crate::explore::pool::drive`] runs them all. Failures are
//! committed in a fixed order (round by round, a round being 16 consecutive runs of a pair,
//! pair by pair within a round), so the failures a sweep reports, and their order, are the
//! same whatever the number of workers, and `stop_after` stops at the same failure.

use crate::engine::replay::Failure;
use crate::explore::pool::{self, Options};
pub use crate::explore::pool::{Progress, Target, TargetProgress};
use crate::explore::strategy::{Ran, Seeds, Spec, Strategy, StrategyKind, bounded, exhaustive};
use crate::scenario::{Scenario, ScenarioError};
use std::collections::BTreeMap;
use std::ops::Range;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

/// Every variant of `scenario` (or only `only`), as targets. `Err` names an unknown variant.
pub fn targets(file: &str, scenario: Scenario, only: Option<&str>) -> Result<Vec<Target>, String> {
    let scenario = Arc::new(scenario);
    let variants: Vec<String> = match only {
        Some(v) if scenario.variants.iter().any(|x| x == v) => vec![v.to_owned()],
        Some(v) => {
            return Err(format!("{file}: unknown variant `{v}`; expected one of: {}", scenario.variants.join(", ")));
        }
        None => scenario.variants.clone(),
    };
    Ok(variants
        .into_iter()
        .map(|variant| Target { file: file.to_owned(), scenario: Arc::clone(&scenario), variant })
        .collect())
}

/// `--shard K/N`: the K-th of N interleaved parts of a seed range (K counts from 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// Which part, `0..count`.
    pub index: u64,
    /// How many parts.
    pub count: u64,
}

impl Shard {
    /// The whole range.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// How many seeds of `seeds` fall in this shard.
    pub fn len(&self, seeds: &Range<u64>) -> u64 {
        let total = seeds.end.saturating_sub(seeds.start);
        if self.index >= total { 0 } else { (total - self.index).div_ceil(self.count) }
    }

    /// Whether the shard holds no seed of `seeds`.
    pub fn is_empty(&self, seeds: &Range<u64>) -> bool {
        self.len(seeds) == 0
    }

    /// The `i`-th seed of this shard: every `count`-th seed of the range from its `index`-th.
    pub fn seed(&self, seeds: &Range<u64>, i: u64) -> u64 {
        seeds.start + self.index + i * self.count
    }
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("expected K/N with 0 <= K < N (K counts from 0), found `{s}`");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (u64, u64) = (k.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// What to sweep and how.
#[derive(Clone, Debug)]
pub struct SweepConfig {
    /// The pairs.
    pub targets: Vec<Target>,
    /// The seed range (before sharding) of a seeded strategy.
    pub seeds: Range<u64>,
    /// Which part of the range this process runs.
    pub shard: Shard,
    /// The strategy deciding the runs.
    pub strategy: StrategyKind,
    /// The bounds of a bounded search.
    pub bounded: bounded::Bounds,
    /// The bounds of an exhaustive search.
    pub exhaustive: exhaustive::Bounds,
    /// Worker threads (at least 1).
    pub jobs: usize,
    /// Stop once this many failures are committed.
    pub stop_after: Option<u64>,
    /// Runs per round of a pair.
    pub chunk: u64,
    /// Stop each run at its first broken invariant (faster; later breaks go unseen).
    pub first_only: bool,
    /// Stop handing out runs at this instant (a time budget; outside every run).
    pub deadline: Option<Instant>,
    /// Hunt: a bounded or exhaustive search stops at its first failure and ignores the
    /// seeds (default). Otherwise it makes its runs numbered `seeds`, going on past failures.
    pub hunt: bool,
    /// Failures handed to the sink in full per (pair, first broken check); the rest are only
    /// counted (in the progress and [`Summary::unwritten`]). `None` hands over every one. A
    /// sweep where every seed fails would otherwise write a whole tape per seed.
    pub keep: Option<u64>,
}

/// Failures kept in full per (pair, first broken check) unless a sweep says otherwise.
pub const KEEP_DEFAULT: u64 = 10;

impl SweepConfig {
    /// A sweep of `targets` over `seeds` with the default strategy, on one worker.
    pub fn new(targets: Vec<Target>, seeds: Range<u64>) -> Self {
        SweepConfig {
            targets,
            seeds,
            shard: Shard::ALL,
            strategy: StrategyKind::DEFAULT,
            bounded: bounded::Bounds::default(),
            exhaustive: exhaustive::Bounds::default(),
            jobs: 1,
            stop_after: None,
            chunk: 16,
            first_only: false,
            deadline: None,
            hunt: true,
            keep: Some(KEEP_DEFAULT),
        }
    }

    /// The strategy with its settings.
    pub fn spec(&self) -> Spec {
        Spec { bounded: self.bounded, exhaustive: self.exhaustive, ..Spec::new(self.strategy) }
    }

    /// The seeds this process runs.
    pub fn seed_set(&self) -> Seeds {
        Seeds { range: self.seeds.clone(), index: self.shard.index, count: self.shard.count }
    }
}

/// Receives a sweep's failures in commit order, and its progress now and then.
pub trait Sink {
    /// A committed failure of `target` (index into the config's targets).
    fn failure(&mut self, target: usize, failure: &Failure, progress: &Progress);
    /// Progress, called every few hundred milliseconds and once at the end.
    fn progress(&mut self, _progress: &Progress) {}
}

/// A sink that keeps every failure.
#[derive(Default, Debug)]
pub struct Collect {
    /// (target index, failure), in commit order.
    pub failures: Vec<(usize, Failure)>,
}

impl Sink for Collect {
    fn failure(&mut self, target: usize, failure: &Failure, _: &Progress) {
        self.failures.push((target, failure.clone()));
    }
}

/// Why a sweep ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// Every run was made (every strategy was done).
    Complete,
    /// `stop_after` failures were committed.
    StoppedAfter,
    /// The stop flag was raised (Ctrl-C).
    Interrupted,
    /// The time budget ran out.
    OutOfTime,
}

/// The end of a sweep.
#[derive(Clone, Debug)]
pub struct Summary {
    /// Final counts (runs and failures committed, worker time per pair).
    pub progress: Progress,
    /// Why it ended.
    pub ended: Ended,
    /// What each pair's strategy concluded (a search's certificate or first failure).
    pub conclusions: Vec<Option<String>>,
    /// Whether each pair's strategy gave up (its model is not deterministic).
    pub abandoned: Vec<bool>,
    /// Failures counted but not handed to the sink (beyond `keep` of their kind).
    pub unwritten: u64,
}

/// What went wrong before a sweep could run.
#[derive(Debug)]
pub enum SweepError {
    /// A scenario did not build.
    Scenario(ScenarioError),
}

impl std::fmt::Display for SweepError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SweepError::Scenario(e) => write!(f, "{e}"),
        }
    }
}

/// Turns committed runs into failure files for a [`Sink`], and stops after `stop_after`.
struct Failures<'a> {
    cfg: &'a SweepConfig,
    names: Vec<&'static str>,
    sink: &'a mut dyn Sink,
    committed: u64,
    /// Failures handed over per (pair, first broken check).
    kept: Vec<BTreeMap<String, u64>>,
    unwritten: u64,
}

impl pool::Sink for Failures<'_> {
    fn ran(&mut self, target: usize, ran: &Ran, progress: &Progress) -> bool {
        if !ran.failed() {
            return true;
        }
        self.committed += 1;
        let first = ran.outcome.verdict.failed_check().unwrap_or_default();
        // Looked up by `&str`: a sweep where every run fails allocates once per kind, not per run.
        let per_pair = &mut self.kept[target];
        let kept = match per_pair.get_mut(first) {
            Some(n) => n,
            None => per_pair.entry(first.to_owned()).or_default(),
        };
        if self.cfg.keep.is_none_or(|k| *kept < k) {
            *kept += 1;
            // Built only for the failures written: a tape per seed is the expensive part.
            let failure = ran.failure(&self.cfg.targets[target].file, self.names[target]);
            self.sink.failure(target, &failure, progress);
        } else {
            self.unwritten += 1;
        }
        self.cfg.stop_after.is_none_or(|n| self.committed < n)
    }

    fn progress(&mut self, progress: &Progress) {
        self.sink.progress(progress);
    }
}

/// Run the sweep, handing failures to `sink` as they are committed. Raising `stop` (from
/// a Ctrl-C handler) ends it cleanly: workers finish their current run, failures are
/// committed in order up to the first run that did not finish, and the summary says it
/// was interrupted.
pub fn sweep(cfg: &SweepConfig, stop: &AtomicBool, sink: &mut dyn Sink) -> Result<Summary, SweepError> {
    let seeds = cfg.seed_set();
    let spec = cfg.spec();
    let make = |s: Seeds| if cfg.hunt { spec.hunt(s) } else { spec.over(s) };
    let mut strategies: Vec<Box<dyn Strategy>> = cfg.targets.iter().map(|_| make(seeds.clone())).collect();
    let names = strategies.iter().map(|s| s.name()).collect();
    let opts = Options { jobs: cfg.jobs, chunk: cfg.chunk, stop, deadline: cfg.deadline, first_only: cfg.first_only };
    let mut failures =
        Failures { cfg, names, sink, committed: 0, kept: vec![BTreeMap::new(); cfg.targets.len()], unwritten: 0 };
    let summary = pool::drive(&cfg.targets, &mut strategies, &opts, &mut failures).map_err(SweepError::Scenario)?;
    let ended = match summary.ended {
        pool::Ended::Complete => Ended::Complete,
        pool::Ended::Stopped => Ended::StoppedAfter,
        pool::Ended::Interrupted => Ended::Interrupted,
        pool::Ended::OutOfTime => Ended::OutOfTime,
    };
    let conclusions = strategies.iter().map(|s| s.conclusion()).collect();
    let abandoned = strategies.iter().map(|s| s.abandoned().is_some()).collect();
    Ok(Summary { progress: summary.progress, ended, conclusions, abandoned, unwritten: failures.unwritten })
}
