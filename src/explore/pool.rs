//! The one worker pool: worker threads fed over crossbeam channels, for sweeps, searches,
//! the matrix, verification, shrinking many failures and benchmark rows.
//!
//! [`drive`] runs one [`Strategy`] per (scenario, variant) target. The calling thread
//! coordinates: it asks each strategy for runs, sends them to the workers in small jobs,
//! gives each strategy its runs' results in the order it handed them out, and commits results
//! to the [`Sink`] in one fixed order: round by round (a round is `chunk` consecutive runs of
//! a target), and within a round target by target. That order depends neither on the number
//! of workers nor on timing, so neither do the failures a sweep reports nor where `stop_after`
//! stops. Each worker keeps one simulation per target and reuses it from run to run.
//!
//! A wall-clock deadline or Ctrl-C stops handing out runs; the runs under way finish and
//! results are committed in order up to the first one missing, so a deadline can only cut
//! the committed sequence short, never change what is in it.
//!
//! [`drive_one`] runs a strategy on one simulation in the calling thread, and [`map`] is an
//! ordered parallel map on the same workers.

use crate::engine::{Engine, Sim, TraceLevel};
use crate::explore::strategy::{Execution, Flow, Next, Ran, Strategy};
use crate::scenario::{Scenario, ScenarioError};
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, unbounded};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// One (scenario file, variant) pair.
#[derive(Clone, Debug)]
pub struct Target {
    /// The scenario file as given (written into failure files and reproduce commands).
    pub file: String,
    /// The parsed scenario.
    pub scenario: Arc<Scenario>,
    /// The variant.
    pub variant: String,
}

impl Target {
    /// `scenario/variant`, for progress lines.
    pub fn name(&self) -> String {
        // A variant name (a tasks file's own) may hold control characters; names print raw.
        format!("{}/{}", self.scenario.name, crate::report::term::clean(&self.variant))
    }
}

/// Counts for one target.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TargetProgress {
    /// Runs committed (probes not counted).
    pub runs: u64,
    /// Runs the strategy plans to make, if it knows.
    pub planned: u64,
    /// Failing runs committed.
    pub failures: u64,
    /// Failures by invariant, monitor or limit (every one a run broke).
    pub by_check: BTreeMap<String, u64>,
    /// Worker time spent on this target.
    pub busy: Duration,
}

impl TargetProgress {
    /// Runs per second of one worker on this target.
    pub fn runs_per_sec(&self) -> f64 {
        let s = self.busy.as_secs_f64();
        if s > 0.0 { self.runs as f64 / s } else { 0.0 }
    }
}

/// Where a drive stands.
#[derive(Clone, Debug)]
pub struct Progress {
    /// Per target, in the order of the targets.
    pub targets: Vec<TargetProgress>,
    /// Since the drive started.
    pub elapsed: Duration,
}

impl Progress {
    /// Runs committed over all targets.
    pub fn runs(&self) -> u64 {
        self.targets.iter().map(|t| t.runs).sum()
    }

    /// Runs planned over all targets.
    pub fn planned(&self) -> u64 {
        // Saturating: several targets over 0..2^64 seeds would overflow a plain sum.
        self.targets.iter().fold(0, |n, t| n.saturating_add(t.planned))
    }

    /// Failures over all targets.
    pub fn failures(&self) -> u64 {
        self.targets.iter().map(|t| t.failures).sum()
    }

    /// Runs per second (wall clock).
    pub fn runs_per_sec(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 { self.runs() as f64 / s } else { 0.0 }
    }
}

/// Receives committed runs, in the commit order, and progress now and then.
pub trait Sink {
    /// A committed run of target `target` (probes are not committed). Return `false` to stop
    /// the drive here: nothing after this run is committed.
    fn ran(&mut self, target: usize, ran: &Ran, progress: &Progress) -> bool;
    /// Progress, every few hundred milliseconds and once at the end.
    fn progress(&mut self, _progress: &Progress) {}
}

/// Why a drive ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// Every strategy was done.
    Complete,
    /// The sink asked to stop.
    Stopped,
    /// The stop flag was raised (Ctrl-C).
    Interrupted,
    /// The deadline passed.
    OutOfTime,
}

/// How to drive.
#[derive(Clone, Debug)]
pub struct Options<'a> {
    /// Worker threads (at least 1).
    pub jobs: usize,
    /// Runs per round of a target (and at most per job).
    pub chunk: u64,
    /// Raised from outside (Ctrl-C): stop cleanly.
    pub stop: &'a AtomicBool,
    /// Stop handing out runs at this instant.
    pub deadline: Option<Instant>,
    /// Stop each run at its first broken invariant.
    pub first_only: bool,
}

impl<'a> Options<'a> {
    /// One worker, chunks of 16, no deadline.
    pub fn new(stop: &'a AtomicBool) -> Options<'a> {
        Options { jobs: 1, chunk: 16, stop, deadline: None, first_only: false }
    }
}

/// The end of a drive.
#[derive(Clone, Debug)]
pub struct Summary {
    /// Final counts.
    pub progress: Progress,
    /// Why it ended.
    pub ended: Ended,
}

/// How many rounds a target may run ahead of the commit point (bounds what is buffered).
const LOOKAHEAD: u64 = 64;

struct Job {
    target: usize,
    first: u64,
    runs: Vec<Execution>,
}

struct Done {
    target: usize,
    first: u64,
    rans: Vec<Ran>,
    busy: Duration,
}

/// Run one execution on `sim` (its tape recorded).
pub fn run_one(sim: &mut Sim, execution: Execution) -> Ran {
    sim.record_tape(true);
    let outcome = sim.run(execution.tape, execution.seed);
    let failed = !outcome.verdict.is_pass();
    let keep = execution.record || failed;
    let choices = keep.then(|| sim.choices().to_vec());
    let params = if execution.params.is_null() && (keep || execution.probe) {
        sim.world().resource::<Engine>().tape.strategy_params()
    } else {
        execution.params
    };
    Ran { seed: execution.seed, probe: execution.probe, outcome, choices, params }
}

/// Run `strategy` on `sim` in this thread until it is done, stops, or `each` (given every
/// counted run) returns `false`.
pub fn drive_one(sim: &mut Sim, strategy: &mut dyn Strategy, mut each: impl FnMut(&Ran) -> bool) {
    loop {
        match strategy.new_execution() {
            Next::Run(execution) => {
                let ran = run_one(sim, execution);
                let flow = strategy.observe(&ran);
                if !ran.probe && !each(&ran) {
                    return;
                }
                if flow == Flow::Stop {
                    return;
                }
            }
            // With every run observed, waiting can only mean the strategy has nothing more.
            Next::Wait | Next::Done => return,
        }
    }
}

/// Run the workers: each gets its own state from `init` and turns jobs into results with
/// `work`; `coordinate` runs on the calling thread with the ends of both channels.
fn with_workers<J: Send, R: Send, S, T>(
    jobs: usize,
    init: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, J) -> R + Sync,
    coordinate: impl FnOnce(&Sender<J>, &Receiver<R>) -> T,
) -> T {
    let (job_tx, job_rx) = unbounded::<J>();
    let (done_tx, done_rx) = unbounded::<R>();
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            let (rx, tx) = (job_rx.clone(), done_tx.clone());
            let (init, work) = (&init, &work);
            scope.spawn(move || {
                let mut state = init();
                for job in rx {
                    if tx.send(work(&mut state, job)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        drop(job_rx);
        let out = coordinate(&job_tx, &done_rx);
        drop(job_tx);
        out
    })
}

/// `f` applied to every item on up to `jobs` workers; results in item order.
pub fn map<T: Sync, R: Send>(items: &[T], jobs: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    with_workers(
        jobs.clamp(1, items.len().max(1)),
        || (),
        |_, i: usize| (i, f(&items[i])),
        |tx, rx| {
            for i in 0..items.len() {
                let _ = tx.send(i);
            }
            let mut out: Vec<Option<R>> = (0..items.len()).map(|_| None).collect();
            for _ in 0..items.len() {
                match rx.recv() {
                    Ok((i, r)) => out[i] = Some(r),
                    Err(_) => break,
                }
            }
            out.into_iter().flatten().collect()
        },
    )
}

/// Per-target state of the coordinator.
///
/// Runs are indexed in the order they were handed out; counted runs (not probes) also get a
/// place among the counted runs, which is what rounds and the commit order are made of.
#[derive(Default)]
struct Slot {
    /// Runs handed out (the next one's index).
    next: u64,
    /// Counted runs handed out.
    counted: u64,
    waiting: bool,
    /// Set when the strategy is done, or stopped: how many runs it handed out that count,
    /// and how many counted runs there are up to there.
    finished: Option<(u64, u64)>,
    /// Results received, by index, not yet observed.
    received: BTreeMap<u64, Ran>,
    /// The next index to observe.
    observed: u64,
    /// Counted runs observed.
    observed_counted: u64,
}

impl Slot {
    fn done(&self) -> bool {
        self.finished.is_some_and(|(f, _)| self.observed >= f)
    }
}

/// Run every strategy (one per target, `strategies[i]` for `targets[i]`) on the pool until
/// all are done, committing runs to `sink`. `Err` if a target's simulation does not build.
pub fn drive(
    targets: &[Target],
    strategies: &mut [Box<dyn Strategy + '_>],
    opts: &Options<'_>,
    sink: &mut dyn Sink,
) -> Result<Summary, ScenarioError> {
    let start = Instant::now();
    let chunk = opts.chunk.max(1);
    let workers = opts.jobs.max(1);
    let halt = AtomicBool::new(false);
    let mut progress = Progress {
        targets: strategies
            .iter()
            .map(|s| TargetProgress { planned: s.planned().unwrap_or(0), ..TargetProgress::default() })
            .collect(),
        elapsed: Duration::ZERO,
    };
    let first_only = opts.first_only;
    let halt_ref = &halt;
    let stop = opts.stop;
    let result = with_workers(
        workers,
        || (0..targets.len()).map(|_| None).collect::<Vec<Option<Sim>>>(),
        |sims: &mut Vec<Option<Sim>>, job: Job| -> Result<Done, ScenarioError> {
            let target = &targets[job.target];
            if sims[job.target].is_none() {
                let mut sim = Sim::new(&target.scenario, &target.variant)?;
                sim.trace_level(TraceLevel::Hash).stop_at_first(first_only);
                sims[job.target] = Some(sim);
            }
            let Some(sim) = sims[job.target].as_mut() else { unreachable!("built above") };
            let began = Instant::now();
            let mut rans = Vec::with_capacity(job.runs.len());
            for execution in job.runs {
                if halt_ref.load(Ordering::Relaxed) || stop.load(Ordering::Relaxed) {
                    break;
                }
                rans.push(run_one(sim, execution));
            }
            Ok(Done { target: job.target, first: job.first, rans, busy: began.elapsed() })
        },
        |jobs, results| coordinate(strategies, opts, chunk, workers, &halt, jobs, results, sink, &mut progress, start),
    );
    progress.elapsed = start.elapsed();
    let ended = result?;
    sink.progress(&progress);
    Ok(Summary { progress, ended })
}

/// The coordinator's loop: hand out runs, observe results in each strategy's order, commit
/// in the fixed (round, target, index) order.
#[allow(clippy::too_many_arguments)]
fn coordinate(
    strategies: &mut [Box<dyn Strategy + '_>],
    opts: &Options<'_>,
    chunk: u64,
    workers: usize,
    halt: &AtomicBool,
    jobs: &Sender<Job>,
    results: &Receiver<Result<Done, ScenarioError>>,
    sink: &mut dyn Sink,
    progress: &mut Progress,
    start: Instant,
) -> Result<Ended, ScenarioError> {
    let n = strategies.len();
    let mut slots: Vec<Slot> = (0..n).map(|_| Slot::default()).collect();
    // Observed counted runs waiting for their turn to be committed, by (round, target, place).
    let mut ready: BTreeMap<(u64, usize, u64), Ran> = BTreeMap::new();
    // The commit point: the round and target whose runs are committed next.
    let (mut round, mut at) = (0u64, 0usize);
    let mut in_flight = 0usize;
    let mut ended = Ended::Complete;
    let mut stopping = false;
    let tick = Duration::from_millis(250);
    let mut last_tick = Instant::now();
    loop {
        if !stopping {
            if opts.stop.load(Ordering::Relaxed) {
                (stopping, ended) = (true, Ended::Interrupted);
            } else if opts.deadline.is_some_and(|d| Instant::now() >= d) {
                (stopping, ended) = (true, Ended::OutOfTime);
            }
        }
        // Hand out runs, lowest (round, target) first, within the look-ahead.
        while !stopping && in_flight < workers * 3 {
            let best = slots
                .iter()
                .enumerate()
                .filter(|(_, s)| !s.waiting && s.finished.is_none() && s.counted / chunk <= round + LOOKAHEAD)
                .map(|(t, s)| (s.counted / chunk, t))
                .min();
            let Some((_, t)) = best else { break };
            let slot = &mut slots[t];
            // Up to the end of the target's current round.
            let room = chunk - slot.counted % chunk;
            let (mut runs, mut counted) = (Vec::new(), 0);
            while counted < room {
                match strategies[t].new_execution() {
                    Next::Run(e) => {
                        counted += u64::from(!e.probe);
                        runs.push(e);
                    }
                    Next::Wait => {
                        slot.waiting = true;
                        break;
                    }
                    Next::Done => {
                        slot.finished = Some((slot.next + runs.len() as u64, slot.counted + counted));
                        break;
                    }
                }
            }
            if runs.is_empty() {
                continue;
            }
            let first = slot.next;
            slot.next += runs.len() as u64;
            slot.counted += counted;
            if jobs.send(Job { target: t, first, runs }).is_ok() {
                in_flight += 1;
            }
        }
        // Commit, in order, what has been observed.
        let all_done = |slots: &[Slot]| slots.iter().all(Slot::done);
        while ended != Ended::Stopped {
            let keys: Vec<(u64, usize, u64)> =
                ready.range((round, at, 0)..=(round, at, u64::MAX)).map(|(k, _)| *k).collect();
            for k in keys {
                let Some(ran) = ready.remove(&k) else { continue };
                if ended != Ended::Stopped && !commit(at, &ran, progress, sink, start) {
                    (ended, stopping) = (Ended::Stopped, true);
                    halt.store(true, Ordering::Relaxed);
                }
            }
            let s = &slots[at];
            let end = ((round + 1) * chunk).min(s.finished.map_or(u64::MAX, |(_, c)| c));
            let settled = s.observed_counted >= end || s.done();
            if !settled || (ready.is_empty() && all_done(&slots)) {
                break;
            }
            at += 1;
            if at == n {
                (round, at) = (round + 1, 0);
            }
        }
        if in_flight == 0 {
            if stopping || all_done(&slots) {
                break;
            }
            if slots.iter().any(|s| s.waiting && s.finished.is_none()) {
                // Every run handed out is observed, yet these strategies wait: by the
                // contract, they have nothing more.
                for s in slots.iter_mut().filter(|s| s.waiting && s.finished.is_none()) {
                    s.finished = Some((s.next, s.counted));
                }
                continue;
            }
        }
        match results.recv_timeout(tick) {
            Ok(Err(e)) => {
                halt.store(true, Ordering::Relaxed);
                return Err(e);
            }
            Ok(Ok(done)) => {
                in_flight -= 1;
                let t = done.target;
                progress.targets[t].busy += done.busy;
                let slot = &mut slots[t];
                for (i, ran) in done.rans.into_iter().enumerate() {
                    slot.received.insert(done.first + i as u64, ran);
                }
                // Observe in order; after a stop, later runs are dropped.
                while let Some(ran) = slot.received.remove(&slot.observed) {
                    let index = slot.observed;
                    slot.observed += 1;
                    if slot.finished.is_some_and(|(f, _)| index >= f) {
                        continue;
                    }
                    slot.waiting = false;
                    let stop = strategies[t].observe(&ran) == Flow::Stop;
                    if !ran.probe {
                        let place = slot.observed_counted;
                        slot.observed_counted += 1;
                        ready.insert((place / chunk, t, place), ran);
                    }
                    if stop {
                        slot.finished = Some((index + 1, slot.observed_counted));
                    }
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if last_tick.elapsed() >= tick {
            last_tick = Instant::now();
            progress.elapsed = start.elapsed();
            sink.progress(progress);
        }
    }
    Ok(ended)
}

/// Count a committed run and hand it to the sink; `false` if the sink wants to stop.
fn commit(target: usize, ran: &Ran, progress: &mut Progress, sink: &mut dyn Sink, start: Instant) -> bool {
    let t = &mut progress.targets[target];
    t.runs += 1;
    if ran.failed() {
        t.failures += 1;
        for check in ran.outcome.checks() {
            *t.by_check.entry(check.to_owned()).or_insert(0) += 1;
        }
    }
    progress.elapsed = start.elapsed();
    sink.ran(target, ran, progress)
}
