//! Sweeps: many seeds of many (scenario, variant) pairs on a pool of worker threads.
//!
//! The seeds of a sweep (after sharding) are cut into small chunks; jobs go out in a fixed
//! order (chunk by chunk, each chunk over every pair) on a crossbeam channel, and each worker
//! keeps one [`Sim`] per pair, reused from seed to seed. Results come back on another channel
//! and are *committed in job order*: a failure is handed to the [`Sink`] as soon as every job
//! before it has finished, which is at most a chunk per worker after it was found. So the
//! failures a sweep reports, and their order, are the same whatever the number of workers,
//! and `stop_after` stops at the same failure.

use crate::engine::replay::Failure;
use crate::engine::{Sim, TraceLevel};
use crate::explore::strategy::{Explorer, StrategyKind};
use crate::scenario::{Scenario, ScenarioError};
use crossbeam_channel::{Receiver, Sender, bounded, unbounded};
use std::collections::BTreeMap;
use std::ops::Range;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// One (scenario file, variant) pair to sweep.
#[derive(Clone, Debug)]
pub struct Target {
    /// The scenario file as given (written into failure files).
    pub file: String,
    /// The parsed scenario.
    pub scenario: Arc<Scenario>,
    /// The variant.
    pub variant: String,
}

impl Target {
    /// `scenario/variant`, for progress lines.
    pub fn name(&self) -> String {
        format!("{}/{}", self.scenario.name, self.variant)
    }
}

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
    /// The seed range (before sharding).
    pub seeds: Range<u64>,
    /// Which part of the range this process runs.
    pub shard: Shard,
    /// The strategy deciding each run's choices.
    pub strategy: StrategyKind,
    /// Worker threads (at least 1).
    pub jobs: usize,
    /// Stop once this many failures are committed.
    pub stop_after: Option<u64>,
    /// Re-run each failing seed with the tape recorded, so failures carry their tape.
    pub tapes: bool,
    /// Seeds per job.
    pub chunk: u64,
    /// Stop each run at its first broken invariant (faster; later breaks go unseen).
    pub first_only: bool,
}

impl SweepConfig {
    /// A sweep of `targets` over `seeds` with the default strategy, one worker, tapes kept.
    pub fn new(targets: Vec<Target>, seeds: Range<u64>) -> Self {
        SweepConfig {
            targets,
            seeds,
            shard: Shard::ALL,
            strategy: StrategyKind::DEFAULT,
            jobs: 1,
            stop_after: None,
            tapes: true,
            chunk: 16,
            first_only: false,
        }
    }

    fn chunks(&self) -> u64 {
        self.shard.len(&self.seeds).div_ceil(self.chunk.max(1))
    }

    fn total_jobs(&self) -> u64 {
        self.chunks().saturating_mul(self.targets.len() as u64)
    }
}

/// Counts for one pair.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TargetProgress {
    /// Runs finished.
    pub runs: u64,
    /// Runs the sweep will make for this pair.
    pub planned: u64,
    /// Failures found.
    pub failures: u64,
    /// Failures by invariant, monitor or limit.
    pub by_check: BTreeMap<String, u64>,
    /// Worker time spent on this pair.
    pub busy: Duration,
}

impl TargetProgress {
    /// Runs per second of one worker on this pair.
    pub fn runs_per_sec(&self) -> f64 {
        let s = self.busy.as_secs_f64();
        if s > 0.0 { self.runs as f64 / s } else { 0.0 }
    }
}

/// Where a sweep stands.
#[derive(Clone, Debug)]
pub struct Progress {
    /// Per pair, in the order of [`SweepConfig::targets`].
    pub targets: Vec<TargetProgress>,
    /// Since the sweep started.
    pub elapsed: Duration,
}

impl Progress {
    /// Runs finished over all pairs.
    pub fn runs(&self) -> u64 {
        self.targets.iter().map(|t| t.runs).sum()
    }

    /// Runs the sweep will make.
    pub fn planned(&self) -> u64 {
        self.targets.iter().map(|t| t.planned).sum()
    }

    /// Failures over all pairs.
    pub fn failures(&self) -> u64 {
        self.targets.iter().map(|t| t.failures).sum()
    }

    /// Runs per second (wall clock).
    pub fn runs_per_sec(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 { self.runs() as f64 / s } else { 0.0 }
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
    /// Every seed ran.
    Complete,
    /// `stop_after` failures were committed.
    StoppedAfter,
    /// The stop flag was raised (Ctrl-C).
    Interrupted,
}

/// The end of a sweep.
#[derive(Clone, Debug)]
pub struct Summary {
    /// Final counts (runs and failures committed, worker time per pair).
    pub progress: Progress,
    /// Why it ended.
    pub ended: Ended,
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

struct Job {
    index: u64,
    target: usize,
    seeds: Range<u64>,
}

struct Done {
    index: u64,
    target: usize,
    runs: u64,
    failures: Vec<Failure>,
    busy: Duration,
}

enum Report {
    Done(Done),
    Error(ScenarioError),
}

/// Run the sweep, handing failures to `sink` as they are committed. Raising `stop` (from
/// a Ctrl-C handler) ends it cleanly: workers finish their current run, failures already
/// found are committed, and the summary says it was interrupted.
pub fn sweep(cfg: &SweepConfig, stop: &AtomicBool, sink: &mut dyn Sink) -> Result<Summary, SweepError> {
    let start = Instant::now();
    let chunk = cfg.chunk.max(1);
    let per_target = cfg.shard.len(&cfg.seeds);
    let mut progress = Progress {
        targets: vec![TargetProgress { planned: per_target, ..TargetProgress::default() }; cfg.targets.len()],
        elapsed: Duration::ZERO,
    };
    let total = cfg.total_jobs();
    let workers = cfg.jobs.max(1);
    let halt = AtomicBool::new(false);
    let (job_tx, job_rx) = bounded::<Job>(workers * 4);
    let (done_tx, done_rx) = unbounded::<Report>();

    let result = std::thread::scope(|scope| {
        let halt = &halt;
        scope.spawn(move || {
            let targets = cfg.targets.len() as u64;
            for index in 0..total {
                if halt.load(Ordering::Relaxed) || stop.load(Ordering::Relaxed) {
                    break;
                }
                let (c, target) = (index / targets, (index % targets) as usize);
                let lo = c * chunk;
                let hi = (lo + chunk).min(per_target);
                if job_tx.send(Job { index, target, seeds: lo..hi }).is_err() {
                    break;
                }
            }
        });
        for _ in 0..workers {
            let (rx, tx) = (job_rx.clone(), done_tx.clone());
            scope.spawn(move || work(cfg, rx, tx, stop, halt));
        }
        drop(done_tx);
        drop(job_rx);
        collect(cfg, &done_rx, stop, halt, sink, &mut progress, start)
    });
    progress.elapsed = start.elapsed();
    let ended = result?;
    sink.progress(&progress);
    Ok(Summary { progress, ended })
}

fn work(cfg: &SweepConfig, jobs: Receiver<Job>, done: Sender<Report>, stop: &AtomicBool, halt: &AtomicBool) {
    let mut sims: Vec<Option<(Sim, Explorer)>> = (0..cfg.targets.len()).map(|_| None).collect();
    for job in jobs {
        let target = &cfg.targets[job.target];
        if sims[job.target].is_none() {
            match Sim::new(&target.scenario, &target.variant) {
                Ok(mut sim) => {
                    let explorer = Explorer::calibrate(cfg.strategy, &mut sim);
                    sim.trace_level(TraceLevel::Hash).record_tape(false).stop_at_first(cfg.first_only);
                    sims[job.target] = Some((sim, explorer));
                }
                Err(e) => {
                    let _ = done.send(Report::Error(e));
                    return;
                }
            }
        }
        let Some((sim, explorer)) = sims[job.target].as_mut() else { continue };
        let began = Instant::now();
        let mut out =
            Done { index: job.index, target: job.target, runs: 0, failures: Vec::new(), busy: Duration::ZERO };
        for i in job.seeds {
            if stop.load(Ordering::Relaxed) || halt.load(Ordering::Relaxed) {
                break;
            }
            let seed = cfg.shard.seed(&cfg.seeds, i);
            let outcome = sim.run(explorer.tape(seed), seed);
            out.runs += 1;
            if outcome.verdict.is_pass() {
                continue;
            }
            let mut failure = Failure {
                file: target.file.clone(),
                scenario: outcome.scenario.clone(),
                variant: outcome.variant.clone(),
                seed,
                strategy: cfg.strategy.name().to_owned(),
                params: serde_json::Value::Null,
                also: Failure::also_of(&outcome),
                verdict: outcome.verdict,
                trace_hash: outcome.trace_hash,
                tape: Vec::new(),
                shrunk: None,
            };
            if cfg.tapes {
                // Determinism makes the second run the same run, now with its tape kept.
                sim.record_tape(true);
                let again = sim.run(explorer.tape(seed), seed);
                sim.record_tape(false);
                debug_assert_eq!(again.trace_hash, failure.trace_hash);
                failure.tape = sim.choices().to_vec();
                failure.params = sim.world().resource::<crate::engine::Tape>().strategy_params();
            }
            out.failures.push(failure);
        }
        out.busy = began.elapsed();
        if done.send(Report::Done(out)).is_err() {
            return;
        }
    }
}

fn collect(
    cfg: &SweepConfig,
    results: &Receiver<Report>,
    stop: &AtomicBool,
    halt: &AtomicBool,
    sink: &mut dyn Sink,
    progress: &mut Progress,
    start: Instant,
) -> Result<Ended, SweepError> {
    let mut pending: BTreeMap<u64, Done> = BTreeMap::new();
    let mut next = 0u64;
    let mut committed = 0u64;
    let mut ended = Ended::Complete;
    let mut last_tick = Instant::now();
    let tick = Duration::from_millis(250);
    let commit = |d: Done, progress: &mut Progress, sink: &mut dyn Sink, committed: &mut u64| -> bool {
        let t = &mut progress.targets[d.target];
        t.runs += d.runs;
        t.busy += d.busy;
        for f in &d.failures {
            if cfg.stop_after.is_some_and(|n| *committed >= n) {
                return false;
            }
            let t = &mut progress.targets[d.target];
            t.failures += 1;
            for check in f.checks() {
                *t.by_check.entry(check.to_owned()).or_insert(0) += 1;
            }
            *committed += 1;
            progress.elapsed = start.elapsed();
            sink.failure(d.target, f, progress);
        }
        cfg.stop_after.is_none_or(|n| *committed < n)
    };
    loop {
        match results.recv_timeout(tick) {
            Ok(Report::Error(e)) => {
                halt.store(true, Ordering::Relaxed);
                return Err(SweepError::Scenario(e));
            }
            Ok(Report::Done(d)) => {
                pending.insert(d.index, d);
                while let Some(d) = pending.remove(&next) {
                    next += 1;
                    if ended == Ended::Complete && !commit(d, progress, sink, &mut committed) {
                        ended = Ended::StoppedAfter;
                        halt.store(true, Ordering::Relaxed);
                    }
                }
            }
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
        }
        if last_tick.elapsed() >= tick {
            last_tick = Instant::now();
            progress.elapsed = start.elapsed();
            sink.progress(progress);
        }
    }
    if ended == Ended::Complete && (stop.load(Ordering::Relaxed) || next < cfg.total_jobs()) {
        // Interrupted: jobs after a gap were found too; commit them in order, they are real.
        ended = Ended::Interrupted;
        for (_, d) in std::mem::take(&mut pending) {
            if !commit(d, progress, sink, &mut committed) {
                break;
            }
        }
    }
    Ok(ended)
}
