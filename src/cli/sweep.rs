//! `racelab sweep`: many seeds on a pool of workers, failures written as they are found.

use super::{STOP, install_ctrlc, load, seeds_arg, strategy_arg};
use crate::engine::Registry;
use crate::engine::replay::Failure;
use crate::explore::pool;
use crate::explore::shrink::{ShrinkConfig, shrink};
use crate::explore::strategy::{StrategyKind, bounded, exhaustive};
use crate::explore::sweep::{Ended, Progress, Shard, Sink, Summary, SweepConfig, Target, sweep, targets};
use crate::report::junit;
use crate::report::shell::{replay, reproduce};
use crate::report::style::{self, Stream::Out, paint};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{IsTerminal, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// `racelab sweep`.
#[derive(Args, Debug)]
pub struct SweepArgs {
    /// Scenario files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Sweep only this variant (default: every variant each file lists); files without it are skipped.
    #[arg(long)]
    pub variant: Option<String>,
    /// The seeds N (0..N) or A..B (default 0..1000) of random, swarm or pct.
    #[arg(long, value_parser = seeds_arg)]
    pub seeds: Option<Range<u64>>,
    /// Worker threads (default: the number of cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// How runs are chosen: random, swarm or pct over seeds; bounded (the calm run, then
    /// every run with 1, 2, ... deviations from it, up to --max-deviations and --budget) or
    /// exhaustive (every tape, depth-first, within --max-tapes and --max-depth).
    #[arg(long, value_parser = strategy_arg, default_value = StrategyKind::DEFAULT.name())]
    pub strategy: StrategyKind,
    /// Bounded: the most deviations from the calm run a run may have.
    #[arg(long, value_name = "K", default_value_t = bounded::Bounds::default().max_deviations)]
    pub max_deviations: u32,
    /// Bounded: the most runs per variant.
    #[arg(long, value_name = "RUNS", default_value_t = bounded::Bounds::default().budget)]
    pub budget: u64,
    /// Stop handing out runs after this many seconds (any strategy). Runs under way finish;
    /// what is reported is what a run budget alone would report, cut short.
    #[arg(long, value_name = "SECS")]
    pub time: Option<f64>,
    /// Exhaustive: stop a variant's search after this many tapes.
    #[arg(long, default_value_t = exhaustive::Bounds::default().max_tapes)]
    pub max_tapes: u64,
    /// Exhaustive: branch only on the first this many choices of a run.
    #[arg(long, default_value_t = exhaustive::Bounds::default().max_depth)]
    pub max_depth: usize,
    /// Run only every N-th seed of the range from its K-th (K counts from 0).
    #[arg(long, value_name = "K/N", value_parser = clap::builder::ValueParser::new(str::parse::<Shard>))]
    pub shard: Option<Shard>,
    /// Write each failure as one JSON line to FILE, flushed as soon as it is found.
    #[arg(long, value_name = "FILE.jsonl")]
    pub out: Option<PathBuf>,
    /// Stop after N failures (the same N failures whatever --jobs is).
    #[arg(long, value_name = "N")]
    pub stop_after: Option<u64>,
    /// Stop each run at its first broken invariant: faster, but the later invariants a run
    /// breaks go unseen (by default a run goes on and reports every one).
    #[arg(long)]
    pub first_only: bool,
    /// Write at most N failures in full per (scenario, variant, first broken invariant); the
    /// rest are counted in the summary (a run's seed and strategy regenerate it anyway).
    #[arg(long, value_name = "N", default_value_t = crate::explore::sweep::KEEP_DEFAULT, conflicts_with = "all_failures")]
    pub keep: u64,
    /// Write every failure in full, however many there are.
    #[arg(long)]
    pub all_failures: bool,
    /// After the sweep, shrink the first failure of each (scenario, variant, invariant) and
    /// write them to FILE.shrunk.jsonl beside --out.
    #[arg(long, requires = "out")]
    pub shrink: bool,
    /// Also write a JUnit XML report to FILE: a test case per scenario and variant, a failure
    /// where the runs made break its expectation (judged as `run` judges; a bounded or
    /// exhaustive search stops at its first failure, which then only has to be one the file
    /// expects), skipped where the sweep stopped before reaching it.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Keep the first failure of each variant expected to hold, shrunk, as a regression file
    /// in the `racelab-regressions/` folder beside its scenario, which `racelab run` replays
    /// first (see `racelab run --help`).
    #[arg(long)]
    pub save_regressions: bool,
}

/// A time budget in seconds as a deadline from now; `Err` for a negative or absurd number.
pub fn deadline(secs: Option<f64>) -> Result<Option<Instant>, String> {
    match secs {
        None => Ok(None),
        Some(s) if (0.0..1e9).contains(&s) => Ok(Some(Instant::now() + Duration::from_secs_f64(s))),
        Some(s) => Err(format!("--time expects seconds (a number from 0), found {s}")),
    }
}

/// The number of worker threads to use by default.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Load every file's targets; the exit code on a bad file or variant. With several files, a
/// `variant` only some of them have sweeps those (`scenarios/*.toml --variant fixed`).
pub fn load_targets(registry: &Registry, files: &[PathBuf], variant: Option<&str>) -> Result<Vec<Target>, i32> {
    let mut all = Vec::new();
    let mut missing = Vec::new();
    for file in files {
        let scenario = load(registry, file)?;
        let shown = file.display().to_string();
        match targets(&shown, scenario, variant) {
            Ok(t) => all.extend(t),
            Err(e) => missing.push(e),
        }
    }
    if all.is_empty() && !missing.is_empty() {
        for e in &missing {
            error!("{e}");
        }
        return Err(2);
    }
    if let Some(v) = variant {
        for e in &missing {
            eprintln!("note: skipped, no variant `{v}`: {}", e.split(':').next().unwrap_or(e));
        }
    }
    Ok(all)
}

/// Prints failures and progress, and writes failures to the output file.
struct Reporter {
    out: Option<(PathBuf, File)>,
    names: Vec<String>,
    /// The live progress bar on a terminal (runs, runs/s, ETA, failures); `None` otherwise.
    bar: Option<ProgressBar>,
    last_plain: Instant,
    error: Option<String>,
    /// Per target: the first failure handed over, tape included.
    firsts: Vec<Option<Failure>>,
    /// Per target: the first seed that broke each check (of the failures handed over).
    first_seeds: Vec<BTreeMap<String, u64>>,
}

impl Reporter {
    fn new(out: Option<(PathBuf, File)>, names: Vec<String>) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let style = ProgressStyle::with_template(
                "{elapsed_precise} [{bar:30}] {human_pos}/{human_len} runs  {per_sec}  ETA {eta}  {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()).with_style(style)
        });
        let n = names.len();
        Reporter {
            out,
            names,
            bar,
            last_plain: Instant::now(),
            error: None,
            firsts: vec![None; n],
            first_seeds: vec![BTreeMap::new(); n],
        }
    }

    /// Take the progress bar off the terminal.
    fn clear(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    /// Print a line above the progress bar.
    fn say(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| println!("{line}")),
            None => println!("{line}"),
        }
    }
}

impl Sink for Reporter {
    fn failure(&mut self, target: usize, failure: &Failure, progress: &Progress) {
        for check in failure.checks() {
            self.first_seeds[target].entry(check.to_owned()).or_insert(failure.seed);
        }
        if self.firsts[target].is_none() {
            self.firsts[target] = Some(failure.clone());
        }
        // The file first, flushed: whatever was printed is on disk even if the process dies next.
        if let Some((path, file)) = &mut self.out
            && let Err(e) = writeln!(file, "{}", failure.to_line()).and_then(|_| file.flush())
            && self.error.is_none()
        {
            self.error = Some(format!("cannot write {}: {e}", path.display()));
            STOP.store(true, Ordering::Relaxed);
        }
        let how = match failure.params.get("deviations").and_then(serde_json::Value::as_array) {
            Some(d) if d.len() == 1 => format!("{}, 1 deviation", failure.strategy),
            Some(d) => format!("{}, {} deviations", failure.strategy, d.len()),
            None => failure.strategy.clone(),
        };
        self.say(&format!(
            "{} {} seed {} ({how}): {}\n     {}",
            paint(Out, style::FAIL, "FAIL"),
            self.names[target],
            failure.seed,
            failure.verdict.summary(),
            reproduce(&failure.file, &failure.variant, failure.seed, &failure.strategy)
        ));
        self.progress(progress);
    }

    fn progress(&mut self, p: &Progress) {
        if let Some(bar) = &self.bar {
            // A search's plan can grow as it goes: the bar follows it.
            bar.set_length(p.planned());
            bar.set_position(p.runs());
            bar.set_message(format!("{} failures", p.failures()));
        } else if self.last_plain.elapsed() >= Duration::from_secs(5) {
            self.last_plain = Instant::now();
            eprintln!(
                "progress: {}/{} runs  {:.0} runs/s  {} failures  {:.1}s",
                p.runs(),
                p.planned(),
                p.runs_per_sec(),
                p.failures(),
                p.elapsed.as_secs_f64()
            );
        }
    }
}

/// Sweep; the exit code (0: no failure, 1: failures, 2: bad input, 130: interrupted).
pub fn run(registry: &Registry, args: SweepArgs) -> i32 {
    let targets = match load_targets(registry, &args.files, args.variant.as_deref()) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let kind = args.strategy;
    if !kind.is_seeded() && (args.seeds.is_some() || args.shard.is_some()) {
        error!(
            "--seeds and --shard do not apply to --strategy {kind}: it searches runs in its own order, not seeds (use --budget{})",
            if kind == StrategyKind::Exhaustive { " or --max-tapes" } else { "" }
        );
        return 2;
    }
    let deadline = match deadline(args.time) {
        Ok(d) => d,
        Err(e) => {
            error!("{e}");
            return 2;
        }
    };
    let mut cfg = SweepConfig::new(targets, args.seeds.clone().unwrap_or(0..1000));
    cfg.strategy = kind;
    cfg.bounded = bounded::Bounds { max_deviations: args.max_deviations, budget: args.budget, stop_at_failure: true };
    cfg.exhaustive = exhaustive::Bounds { max_tapes: args.max_tapes, max_depth: args.max_depth };
    cfg.jobs = args.jobs.unwrap_or_else(default_jobs).max(1);
    cfg.shard = args.shard.unwrap_or(Shard::ALL);
    cfg.stop_after = args.stop_after;
    cfg.first_only = args.first_only;
    cfg.keep = (!args.all_failures).then_some(args.keep);
    cfg.deadline = deadline;
    let out = match create_out(&args) {
        Ok(o) => o,
        Err(code) => return code,
    };
    install_ctrlc();
    let mut reporter = Reporter::new(out, cfg.targets.iter().map(Target::name).collect());
    let summary = match sweep(&cfg, &STOP, &mut reporter) {
        Ok(s) => s,
        Err(e) => {
            reporter.clear();
            super::sweep_error(&e);
            return 2;
        }
    };
    reporter.clear();
    let p = &summary.progress;
    let ended = match summary.ended {
        Ended::Complete => "complete".to_owned(),
        Ended::StoppedAfter => format!("stopped after {} failures", p.failures()),
        Ended::Interrupted => if super::TERMINATED.load(Ordering::Relaxed) {
            "INTERRUPTED (SIGTERM), not every run was made"
        } else {
            "INTERRUPTED (Ctrl-C), not every run was made"
        }
        .to_owned(),
        Ended::OutOfTime => "stopped by the time budget (--time), not every run was made".to_owned(),
    };
    let what = match kind {
        StrategyKind::Bounded => {
            format!("strategy bounded (at most {} deviations, {} runs per variant)", args.max_deviations, args.budget)
        }
        StrategyKind::Exhaustive => format!(
            "strategy exhaustive (at most {} tapes per variant, branching on {} choices)",
            args.max_tapes, args.max_depth
        ),
        _ => {
            let shard = if cfg.shard.count > 1 {
                format!(" shard {}/{}", cfg.shard.index, cfg.shard.count)
            } else {
                String::new()
            };
            format!("strategy {kind}, seeds {}..{}{shard}", cfg.seeds.start, cfg.seeds.end)
        }
    };
    println!(
        "sweep {ended}: {} runs in {:.2}s ({:.0} runs/s on {} jobs), {what}: {} failures",
        p.runs(),
        p.elapsed.as_secs_f64(),
        p.runs_per_sec(),
        cfg.jobs,
        p.failures()
    );
    let width = reporter.names.iter().map(String::len).max().unwrap_or(0).min(crate::report::NAME_COLUMN_MAX);
    for ((name, t), conclusion) in reporter.names.iter().zip(&p.targets).zip(&summary.conclusions) {
        let checks: Vec<String> = t.by_check.iter().map(|(k, n)| format!("{k} {n}")).collect();
        let result = match conclusion {
            Some(c) => c.clone(),
            // A sweep stopped early may never have reached a variant: that is not a pass.
            None if t.runs == 0 => "not run (the sweep stopped first)".to_owned(),
            None if checks.is_empty() => paint(Out, style::PASS, "pass"),
            None => format!("{} {}: {}", paint(Out, style::FAIL, "FAIL"), t.failures, checks.join(", ")),
        };
        println!("  {name:<width$}  {:>8} runs  {:>7.0} runs/s  {result}", t.runs, t.runs_per_sec());
    }
    if summary.unwritten > 0 {
        println!(
            "{} more failures counted above but not written (at most {} per scenario, variant and invariant; --all-failures writes every one)",
            summary.unwritten, args.keep
        );
    }
    if let Some((path, _)) = &reporter.out {
        println!("failures written to {}", path.display());
    }
    if let Some(e) = &reporter.error {
        error!("{e}");
        return 2;
    }
    if let Some(path) = &args.junit
        && let Err(code) = super::write_junit(path, &junit_cases(&cfg, &summary, &reporter))
    {
        return code;
    }
    if args.save_regressions {
        for (target, first) in cfg.targets.iter().zip(&reporter.firsts) {
            if let Some(f) = first {
                super::keep_regression(Path::new(&target.file), &target.scenario, f);
            }
        }
    }
    drop(reporter.out.take());
    if args.shrink
        && let Some(path) = &args.out
        && summary.ended != Ended::Interrupted
    {
        let code = shrink_firsts(path, &cfg.targets, cfg.jobs);
        if code != 0 {
            return code;
        }
    }
    match summary.ended {
        Ended::Interrupted => super::interrupted_code(),
        _ if summary.abandoned.iter().any(|a| *a) => 2,
        _ if p.failures() > 0 => 1,
        _ => 0,
    }
}

/// A JUnit case per target: its runs judged against the scenario's expectation.
fn junit_cases(cfg: &SweepConfig, summary: &Summary, reporter: &Reporter) -> Vec<junit::Case> {
    // A search stops at its first failure, and a sweep cut short (--stop-after, --time,
    // Ctrl-C) may stop before a variant breaks everything its file lists: then a failure
    // that breaks only what the file expects meets the expectation.
    let hunt = !cfg.strategy.is_seeded() || summary.ended != Ended::Complete;
    let mut cases = Vec::new();
    for (t, target) in cfg.targets.iter().enumerate() {
        let p = &summary.progress.targets[t];
        let first = reporter.firsts[t].as_ref();
        let see = first.map(|f| reproduce(&f.file, &f.variant, f.seed, &f.strategy));
        let (failure, skipped) = if summary.abandoned[t] {
            let why = "the search gave up: the model did not run the same twice (not deterministic)";
            (Some(junit::failure_message(&target.scenario.name, &target.variant, why, None)), None)
        } else if p.runs == 0 {
            (None, Some("not run (the sweep stopped first)".to_owned()))
        } else {
            let failures = p
                .by_check
                .iter()
                .map(|(k, n)| {
                    let seed = reporter.first_seeds[t].get(k).copied().or(first.map(|f| f.seed)).unwrap_or(0);
                    (k.clone(), (*n, seed))
                })
                .collect();
            let verdict = super::judge_counts(&target.scenario, &target.variant, p.runs, p.failures, failures, hunt);
            let failure =
                verdict.err().map(|why| junit::failure_message(&target.scenario.name, &target.variant, &why, see));
            (failure, None)
        };
        cases.push(junit::Case {
            scenario: target.scenario.name.clone(),
            file: target.file.clone(),
            variant: target.variant.clone(),
            runs: p.runs,
            failure,
            skipped,
            // Worker time: the pairs share the workers, so this is not wall-clock time.
            seconds: p.busy.as_secs_f64(),
        });
    }
    cases
}

fn create_out(args: &SweepArgs) -> Result<Option<(PathBuf, File)>, i32> {
    match &args.out {
        None => Ok(None),
        Some(path) => match File::create(path) {
            Ok(f) => Ok(Some((path.clone(), f))),
            Err(e) => {
                error!("cannot create {}: {e}", path.display());
                Err(2)
            }
        },
    }
}

/// `FILE.jsonl` -> `FILE.shrunk.jsonl`.
pub fn shrunk_path(out: &Path) -> PathBuf {
    let stem = out.file_stem().map_or_else(|| "failures".into(), |s| s.to_string_lossy().into_owned());
    out.with_file_name(format!("{stem}.shrunk.jsonl"))
}

/// Shrink the first failure of each (scenario, variant, invariant) in `out`, on `jobs`
/// threads, and write them to the `.shrunk.jsonl` file beside it.
fn shrink_firsts(out: &Path, targets: &[Target], jobs: usize) -> i32 {
    let failures = match Failure::load_all(out) {
        Ok(f) => f,
        Err(e) => {
            error!("{e}");
            return 2;
        }
    };
    let mut seen = BTreeSet::new();
    let firsts: Vec<(usize, Failure)> = failures
        .into_iter()
        .filter(|f| seen.insert((f.file.clone(), f.variant.clone(), f.verdict.failed_check().map(str::to_owned))))
        .filter_map(|f| targets.iter().position(|t| t.file == f.file && t.variant == f.variant).map(|t| (t, f)))
        .collect();
    let shrunk = pool::map(&firsts, jobs, |(t, f)| shrink(&targets[*t].scenario, f, ShrinkConfig::default()));
    let path = shrunk_path(out);
    let mut text = String::new();
    let mut line = 0;
    for ((t, f), r) in firsts.iter().zip(shrunk) {
        let name = targets[*t].name();
        match r {
            Ok(r) => {
                println!(
                    "shrunk {name} seed {} ({}): non-calm choices {} -> {}, tape {} -> {}, trace {} -> {} events",
                    f.seed,
                    f.verdict.failed_check().unwrap_or("?"),
                    r.before.faults,
                    r.after.faults,
                    r.before.choices,
                    r.after.choices,
                    r.before.events,
                    r.after.events
                );
                text.push_str(&r.failure.to_line());
                text.push('\n');
                line += 1;
                println!("       {} --line {line}", replay(&path));
            }
            Err(e) => eprintln!("warning: cannot shrink {name} seed {}: {e}", f.seed),
        }
    }
    if let Err(e) = std::fs::write(&path, text) {
        error!("cannot write {}: {e}", path.display());
        return 2;
    }
    println!("shrunk failures written to {} ({} replay reads them)", path.display(), super::program());
    0
}
