//! `racelab sweep`: many seeds on a pool of workers, failures written as they are found.

use super::{STOP, install_ctrlc, load, seeds_arg};
use crate::engine::Registry;
use crate::engine::replay::Failure;
use crate::explore::exhaustive::Bounds;
use crate::explore::pool;
use crate::explore::search::search;
use crate::explore::shrink::{ShrinkConfig, shrink};
use crate::explore::strategy::StrategyKind;
use crate::explore::sweep::{Ended, Progress, Shard, Sink, SweepConfig, Target, sweep, targets};
use clap::Args;
use std::collections::BTreeSet;
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
    /// The seeds A..B (default 0..1000).
    #[arg(long, value_parser = seeds_arg)]
    pub seeds: Option<Range<u64>>,
    /// Worker threads (default: the number of cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// How each run's choices are decided: random, swarm or pct over seeds, or exhaustive
    /// (every tape of each variant, depth-first, within --max-tapes and --max-depth).
    #[arg(long, value_parser = clap::builder::ValueParser::new(str::parse::<Search>), default_value = StrategyKind::DEFAULT.name())]
    pub strategy: Search,
    /// Exhaustive: stop a variant's search after this many tapes.
    #[arg(long, default_value_t = Bounds::default().max_tapes)]
    pub max_tapes: u64,
    /// Exhaustive: branch only on the first this many choices of a run.
    #[arg(long, default_value_t = Bounds::default().max_depth)]
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
    /// After the sweep, shrink the first failure of each (scenario, variant, invariant) and
    /// write them to FILE.shrunk.jsonl beside --out.
    #[arg(long, requires = "out")]
    pub shrink: bool,
}

/// What a sweep searches: seeds under a strategy, or every tape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Search {
    /// Seeds, each run's choices decided by this strategy.
    Seeds(StrategyKind),
    /// Every tape of each variant, depth-first ([`crate::explore::exhaustive`]).
    Exhaustive,
}

impl std::str::FromStr for Search {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s == "exhaustive" {
            return Ok(Search::Exhaustive);
        }
        s.parse().map(Search::Seeds).map_err(|e: String| format!("{e}, exhaustive"))
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
            eprintln!("error: {e}");
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
    tty: bool,
    drawn: usize,
    last_plain: Instant,
    error: Option<String>,
}

impl Reporter {
    /// Erase the progress block drawn on the terminal.
    fn clear(&mut self) {
        if self.tty && self.drawn > 0 {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\x1b[{}F\x1b[J", self.drawn);
            let _ = err.flush();
            self.drawn = 0;
        }
    }

    fn lines(&self, p: &Progress) -> Vec<String> {
        let mut lines = vec![format!(
            "{}/{} runs  {:.0} runs/s  {} failures  {:.1}s",
            p.runs(),
            p.planned(),
            p.runs_per_sec(),
            p.failures(),
            p.elapsed.as_secs_f64()
        )];
        let width = self.names.iter().map(String::len).max().unwrap_or(0);
        for (name, t) in self.names.iter().zip(&p.targets) {
            let pct = if t.planned == 0 { 100.0 } else { 100.0 * t.runs as f64 / t.planned as f64 };
            lines.push(format!(
                "  {name:<width$}  {pct:>5.1}%  {:>8} runs  {:>7.0} runs/s  {:>6} failures",
                t.runs,
                t.runs_per_sec(),
                t.failures
            ));
        }
        lines
    }
}

impl Sink for Reporter {
    fn failure(&mut self, target: usize, failure: &Failure, progress: &Progress) {
        // The file first, flushed: whatever was printed is on disk even if the process dies next.
        if let Some((path, file)) = &mut self.out
            && let Err(e) = writeln!(file, "{}", failure.to_line()).and_then(|_| file.flush())
            && self.error.is_none()
        {
            self.error = Some(format!("cannot write {}: {e}", path.display()));
            STOP.store(true, Ordering::Relaxed);
        }
        self.clear();
        println!(
            "FAIL {} seed {} ({}): {}",
            self.names[target],
            failure.seed,
            failure.strategy,
            failure.verdict.summary()
        );
        self.progress(progress);
    }

    fn progress(&mut self, p: &Progress) {
        if self.tty {
            self.clear();
            let lines = self.lines(p);
            let mut err = std::io::stderr().lock();
            for l in &lines {
                let _ = writeln!(err, "{l}");
            }
            let _ = err.flush();
            self.drawn = lines.len();
        } else if self.last_plain.elapsed() >= Duration::from_secs(5) {
            self.last_plain = Instant::now();
            eprintln!("progress: {}", self.lines(p)[0]);
        }
    }
}

/// Sweep; the exit code (0: no failure, 1: failures, 2: bad input, 130: interrupted).
pub fn run(registry: &Registry, args: SweepArgs) -> i32 {
    let targets = match load_targets(registry, &args.files, args.variant.as_deref()) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let strategy = match args.strategy {
        Search::Seeds(kind) => kind,
        Search::Exhaustive => return exhaustive(&args, targets),
    };
    let mut cfg = SweepConfig::new(targets, args.seeds.clone().unwrap_or(0..1000));
    cfg.strategy = strategy;
    cfg.jobs = args.jobs.unwrap_or_else(default_jobs).max(1);
    cfg.shard = args.shard.unwrap_or(Shard::ALL);
    cfg.stop_after = args.stop_after;
    cfg.first_only = args.first_only;
    let out = match create_out(&args) {
        Ok(o) => o,
        Err(code) => return code,
    };
    install_ctrlc();
    let mut reporter = Reporter {
        out,
        names: cfg.targets.iter().map(Target::name).collect(),
        tty: std::io::stderr().is_terminal(),
        drawn: 0,
        last_plain: Instant::now(),
        error: None,
    };
    let summary = match sweep(&cfg, &STOP, &mut reporter) {
        Ok(s) => s,
        Err(e) => {
            reporter.clear();
            eprintln!("error: {e}");
            return 2;
        }
    };
    reporter.clear();
    let p = &summary.progress;
    let ended = match summary.ended {
        Ended::Complete => "complete".to_owned(),
        Ended::StoppedAfter => format!("stopped after {} failures", p.failures()),
        Ended::Interrupted => "INTERRUPTED (Ctrl-C), not every seed ran".to_owned(),
    };
    let shard =
        if cfg.shard.count > 1 { format!(" shard {}/{}", cfg.shard.index, cfg.shard.count) } else { String::new() };
    println!(
        "sweep {ended}: {} runs in {:.2}s ({:.0} runs/s on {} jobs), strategy {}, seeds {}..{}{shard}: {} failures",
        p.runs(),
        p.elapsed.as_secs_f64(),
        p.runs_per_sec(),
        cfg.jobs,
        cfg.strategy,
        cfg.seeds.start,
        cfg.seeds.end,
        p.failures()
    );
    let width = reporter.names.iter().map(String::len).max().unwrap_or(0);
    for (name, t) in reporter.names.iter().zip(&p.targets) {
        let checks: Vec<String> = t.by_check.iter().map(|(k, n)| format!("{k} {n}")).collect();
        let result =
            if checks.is_empty() { "pass".to_owned() } else { format!("FAIL {}: {}", t.failures, checks.join(", ")) };
        println!("  {name:<width$}  {:>8} runs  {:>7.0} runs/s  {result}", t.runs, t.runs_per_sec());
    }
    if let Some((path, _)) = &reporter.out {
        println!("failures written to {}", path.display());
    }
    if let Some(e) = &reporter.error {
        eprintln!("error: {e}");
        return 2;
    }
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
        Ended::Interrupted => 130,
        _ if p.failures() > 0 => 1,
        _ => 0,
    }
}

fn create_out(args: &SweepArgs) -> Result<Option<(PathBuf, File)>, i32> {
    match &args.out {
        None => Ok(None),
        Some(path) => match File::create(path) {
            Ok(f) => Ok(Some((path.clone(), f))),
            Err(e) => {
                eprintln!("error: cannot create {}: {e}", path.display());
                Err(2)
            }
        },
    }
}

/// `--strategy exhaustive`: every tape of each variant; the exit code.
fn exhaustive(args: &SweepArgs, targets: Vec<Target>) -> i32 {
    if args.seeds.is_some() || args.shard.is_some() {
        eprintln!("error: --seeds and --shard do not apply to --strategy exhaustive: it runs every tape, not seeds");
        return 2;
    }
    let mut out = match create_out(args) {
        Ok(o) => o,
        Err(code) => return code,
    };
    install_ctrlc();
    let bounds = Bounds { max_tapes: args.max_tapes, max_depth: args.max_depth };
    let jobs = args.jobs.unwrap_or_else(default_jobs).max(1);
    let width = targets.iter().map(|t| t.name().len()).max().unwrap_or(0);
    let (mut failures, mut cut, mut broken) = (0u64, 0u64, 0u64);
    let mut write_error = None;
    let searched = search(&targets, bounds, jobs, &STOP, |s| {
        let name = targets[s.target].name();
        let secs = s.elapsed.as_secs_f64();
        match (&s.failure, &s.report.nondeterministic) {
            (_, Some(why)) => {
                broken += 1;
                println!("ERROR {name:<width$}  search abandoned after {} tapes: {why}", s.report.tapes);
            }
            (Some(f), None) => {
                failures += 1;
                if let Some((path, file)) = &mut out
                    && let Err(e) = writeln!(file, "{}", f.to_line()).and_then(|_| file.flush())
                {
                    write_error.get_or_insert(format!("cannot write {}: {e}", path.display()));
                }
                println!(
                    "FAIL  {name:<width$}  tape {} of the search ({} choices, {secs:.1}s): {}",
                    f.seed,
                    f.tape.len(),
                    f.verdict.summary()
                );
            }
            (None, None) if s.report.complete() => {
                println!("pass  {name:<width$}  {} ({secs:.1}s)", s.report);
            }
            (None, None) => {
                cut += 1;
                println!("CUT   {name:<width$}  {}", s.report.to_string().trim_end_matches(';'));
            }
        }
    });
    let searched = match searched {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let tapes: u64 = searched.iter().map(|s| s.report.tapes).sum();
    let interrupted = STOP.load(Ordering::Relaxed);
    println!(
        "exhaustive search {}: {} of {} variants searched, {tapes} tapes; {failures} failing, {cut} cut by the bound (--max-tapes {}, --max-depth {})",
        if interrupted { "INTERRUPTED (Ctrl-C)" } else { "complete" },
        searched.len(),
        targets.len(),
        bounds.max_tapes,
        bounds.max_depth
    );
    if let Some((path, _)) = &out {
        println!("failures written to {}", path.display());
    }
    if let Some(e) = write_error {
        eprintln!("error: {e}");
        return 2;
    }
    drop(out);
    if args.shrink
        && let Some(path) = &args.out
        && !interrupted
    {
        let code = shrink_firsts(path, &targets, jobs);
        if code != 0 {
            return code;
        }
    }
    if interrupted {
        130
    } else if broken > 0 {
        2
    } else if failures > 0 {
        1
    } else {
        0
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
            eprintln!("error: {e}");
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
    let mut text = String::new();
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
            }
            Err(e) => eprintln!("warning: cannot shrink {name} seed {}: {e}", f.seed),
        }
    }
    let path = shrunk_path(out);
    if let Err(e) = std::fs::write(&path, text) {
        eprintln!("error: cannot write {}: {e}", path.display());
        return 2;
    }
    println!("shrunk failures written to {} ({} replay reads them)", path.display(), super::program());
    0
}
