//! The command line: one file per subcommand, dispatched from here.

/// `eprintln!` of an error message: `error: ` (red and bold on a colour terminal), then the
/// message.
macro_rules! error {
    ($($arg:tt)*) => {
        eprintln!("{}{}", $crate::report::style::error_header(), format_args!($($arg)*))
    };
}

mod explain;
mod list;
mod matrix;
mod merge;
mod replay;
mod run;
mod shrink;
mod sweep;
mod verify;

pub use explain::{ExplainArgs, ExplainFormat};
pub use matrix::MatrixArgs;
pub use merge::MergeArgs;
pub use replay::ReplayArgs;
pub use run::RunArgs;
pub use shrink::ShrinkArgs;
pub use sweep::SweepArgs;
pub use verify::VerifyArgs;

use crate::engine::replay::Failure;
use crate::engine::{Outcome, Registry, Sim, TraceLevel};
use crate::explore::pool::drive_one;
use crate::explore::strategy::replay::Replay;
use crate::explore::strategy::{Ran, Spec, StrategyKind};
use crate::report::{jsonl, timeline};
use crate::scenario::{Scenario, parse_seed_range};
use clap::{Parser, Subcommand, ValueEnum};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};

/// racelab: reproduce and fix races in event-driven code, deterministically.
#[derive(Parser, Debug)]
#[command(name = "racelab", version, about, long_about = None)]
pub struct Cli {
    /// Colour: auto (on a terminal, unless NO_COLOR is set or CLICOLOR_FORCE asks for it
    /// anyway), always or never.
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// `--color`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    /// On a terminal that takes colour, unless `NO_COLOR` is set (`CLICOLOR_FORCE` forces it).
    Auto,
    /// Always, even into a pipe or a file.
    Always,
    /// Never.
    Never,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run scenarios' variants over seeds and check their expectations.
    Run(RunArgs),
    /// Re-run a saved failure from its tape and print its timeline.
    Replay(ReplayArgs),
    /// Draw one run for people: a text timeline, a Mermaid diagram or an HTML report.
    Explain(ExplainArgs),
    /// List models, their variants, steps and invariants, and the shipped scenarios.
    List,
    /// Sweep seeds on a pool of workers; write each failure as a JSON line as it is found.
    Sweep(SweepArgs),
    /// Shrink a failure to the fewest non-calm choices that still break the same invariant.
    Shrink(ShrinkArgs),
    /// Variants against invariants: how often each fails, first failing seed, seeds to failure.
    Matrix(MatrixArgs),
    /// Join the outputs of sharded sweeps (sorted, duplicates removed).
    Merge(MergeArgs),
    /// Certify fixes and measure failures: a bounded search of every variant, judged
    /// against the file's expectations.
    Verify(VerifyArgs),
    /// Print a shell completion script (e.g. `racelab completions bash > /etc/bash_completion.d/racelab`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff; e.g. `racelab man | man -l -`).
    Man,
}

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Human-readable summary and timelines.
    Text,
    /// JSON Lines: canonical traces (with --seed) or one outcome per variant.
    Jsonl,
}

/// Parse `--seeds`: `N` (seeds 0..N) or `A..B`.
pub fn seeds_arg(s: &str) -> Result<Range<u64>, String> {
    if let Ok(n) = s.parse::<u64>() {
        return if n > 0 { Ok(0..n) } else { Err("expected at least one seed".into()) };
    }
    parse_seed_range(s).ok_or_else(|| format!("expected N or A..B with A < B, found `{s}`"))
}

/// The whole command line for the models in `registry`: parse the process arguments, run
/// the command, exit with its code. A user's crate gets every command for its own model
/// with `racelab::cli::main(Registry::builtin().with(MyModel))`.
pub fn main(registry: Registry) -> ! {
    quiet_sigpipe();
    let cli = Cli::parse();
    std::process::exit(main_with(&registry, cli))
}

/// Run one parsed command line with the models in `registry`; the process exit code.
pub fn main_with(registry: &Registry, cli: Cli) -> i32 {
    crate::report::style::set_choice(match cli.color {
        ColorWhen::Auto => anstream::ColorChoice::Auto,
        ColorWhen::Always => anstream::ColorChoice::Always,
        ColorWhen::Never => anstream::ColorChoice::Never,
    });
    match cli.command {
        Command::Run(mut args) => match scenario_files(&args.files) {
            Ok(files) => {
                args.files = files;
                run::run(registry, args)
            }
            Err(code) => code,
        },
        Command::Replay(args) => replay::replay(registry, args),
        Command::Explain(args) => explain::explain(registry, args),
        Command::List => list::list(registry),
        Command::Sweep(mut args) => match scenario_files(&args.files) {
            Ok(files) => {
                args.files = files;
                sweep::run(registry, args)
            }
            Err(code) => code,
        },
        Command::Shrink(args) => shrink::run(registry, args),
        Command::Matrix(mut args) => match scenario_files(&args.files) {
            Ok(files) => {
                args.files = files;
                matrix::run(registry, args)
            }
            Err(code) => code,
        },
        Command::Merge(args) => merge::run(args),
        Command::Verify(mut args) => match scenario_files(&args.files) {
            Ok(files) => {
                args.files = files;
                verify::run(registry, args)
            }
            Err(code) => code,
        },
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, program(), &mut std::io::stdout());
            0
        }
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command().name(program());
            match clap_mangen::Man::new(cmd).render(&mut std::io::stdout()) {
                Ok(()) => 0,
                Err(_) => 1,
            }
        }
    }
}

/// Raised by Ctrl-C (SIGINT) or SIGTERM: sweeps stop cleanly and print their summary.
pub static STOP: LazyLock<Arc<AtomicBool>> = LazyLock::new(|| Arc::new(AtomicBool::new(false)));

/// Raised by SIGTERM (what CI cancellation sends), so the exit code says which signal it was.
pub static TERMINATED: LazyLock<Arc<AtomicBool>> = LazyLock::new(|| Arc::new(AtomicBool::new(false)));

/// Exit code of a command stopped by a signal: 143 after SIGTERM, 130 after Ctrl-C.
pub fn interrupted_code() -> i32 {
    if TERMINATED.load(Ordering::Relaxed) { 143 } else { 130 }
}

/// Make Ctrl-C and SIGTERM raise [`STOP`] (SIGTERM also [`TERMINATED`]); a second one exits
/// at once (130 or 143).
pub fn install_ctrlc() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    use signal_hook::flag::{register, register_conditional_shutdown};
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    // Once per process (several sweeps in one test process must not stack handlers).
    INSTALLED.call_once(|| {
        // The conditional exits come first: they fire only when STOP is already raised.
        let _ = register_conditional_shutdown(SIGINT, 130, Arc::clone(&STOP));
        let _ = register_conditional_shutdown(SIGTERM, 143, Arc::clone(&STOP));
        let _ = register(SIGTERM, Arc::clone(&TERMINATED));
        let _ = register(SIGINT, Arc::clone(&STOP));
        let _ = register(SIGTERM, Arc::clone(&STOP));
    });
}

/// Make a closed stdout (`racelab list | head -1`) end the process quietly with 141, as a
/// SIGPIPE ends other tools, instead of panicking with "failed printing to stdout". Rust
/// ignores SIGPIPE, so every print would otherwise fail with EPIPE.
fn quiet_sigpipe() {
    let _ = signal_hook::flag::register_conditional_shutdown(
        signal_hook::consts::SIGPIPE,
        141,
        Arc::new(AtomicBool::new(true)),
    );
}

pub use crate::report::shell::program;

/// The scenario files `paths` name: a file as it is, a folder as every `.toml` file under it
/// (as [`crate::testing::scenario_files`] finds them). An unreadable or empty folder is an
/// error (exit code 2).
pub fn scenario_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, i32> {
    let mut out = Vec::new();
    for p in paths {
        if !p.is_dir() {
            out.push(p.clone());
            continue;
        }
        if let Err(e) = std::fs::read_dir(p) {
            error!("{}: cannot read the folder: {e}", p.display());
            return Err(2);
        }
        let found = crate::testing::scenario_files(std::slice::from_ref(p));
        if found.is_empty() {
            error!("{}: no scenario files (*.toml) in this folder", p.display());
            return Err(2);
        }
        out.extend(found);
    }
    Ok(out)
}

/// Print a scenario error on standard error: its `error: file:line:col: message` line, then
/// the offending line with a caret under the column (coloured on a colour terminal).
pub fn scenario_error(e: &crate::scenario::ScenarioError) {
    eprintln!("{}", crate::report::diagnostic::render(e));
}

/// Print a sweep's error (a scenario error drawn as [`scenario_error`] draws it).
pub fn sweep_error(e: &crate::explore::sweep::SweepError) {
    match e {
        crate::explore::sweep::SweepError::Scenario(e) => scenario_error(e),
    }
}

/// Load a scenario, printing a located error (exit code 2) if it is bad.
pub fn load(registry: &Registry, path: &Path) -> Result<Scenario, i32> {
    Scenario::load(registry, path).map_err(|e| {
        scenario_error(&e);
        if crate::report::github::enabled() {
            let title = "racelab: bad scenario file";
            println!("{}", crate::report::github::error(&e.file, e.line, e.column, title, &e.message));
        }
        2
    })
}

/// The failure on 1-based `line` of a failure file or a sweep's JSON Lines; a message and
/// exit code 2 if the file is not one or has no such line.
pub fn failure_at(path: &Path, line: usize) -> Result<Failure, i32> {
    let all = Failure::load_all(path).map_err(|e| {
        error!("{e}");
        2
    })?;
    match line.checked_sub(1).and_then(|i| all.get(i)) {
        Some(f) => Ok(f.clone()),
        None => {
            error!("{}: no failure on line {line} (it holds {})", path.display(), all.len());
            Err(2)
        }
    }
}

/// The scenario file a failure names: `given` (`--scenario`) when set; else its `file`
/// relative to the failure file's folder when that exists, else as written (relative to the
/// working directory, where sweeps record it).
pub fn failure_scenario_path(failure_path: &Path, failure: &Failure, given: Option<&Path>) -> PathBuf {
    if let Some(p) = given {
        return p.to_owned();
    }
    let named = Path::new(&failure.file);
    if named.is_relative()
        && let Some(dir) = failure_path.parent()
        && !dir.as_os_str().is_empty()
        && dir.join(named).is_file()
    {
        return dir.join(named);
    }
    named.to_owned()
}

/// Load the scenario a failure names (see [`failure_scenario_path`]). A path taken from the
/// file (not typed by the user) must be a `.toml` file, and its errors never quote the
/// file's lines: a crafted failure file must not make racelab print `/etc/passwd`.
pub fn failure_scenario(
    registry: &Registry,
    failure_path: &Path,
    failure: &Failure,
    given: Option<&Path>,
) -> Result<(PathBuf, Scenario), i32> {
    let path = failure_scenario_path(failure_path, failure, given);
    if given.is_none() && path.extension().is_none_or(|x| x != "toml") {
        error!(
            "{}: the failure names {:?} as its scenario, which is not a .toml file (give one with --scenario)",
            failure_path.display(),
            failure.file
        );
        return Err(2);
    }
    match Scenario::load(registry, &path) {
        Ok(s) => Ok((path, s)),
        Err(mut e) => {
            if given.is_none() {
                e.snippet = None;
            }
            scenario_error(&e);
            eprintln!("  (the scenario named by {}; give another with --scenario)", failure_path.display());
            Err(2)
        }
    }
}

/// Write a JUnit report to `path`; exit code 2 (with a message) if it cannot be written.
pub fn write_junit(path: &Path, cases: &[crate::report::junit::Case]) -> Result<(), i32> {
    std::fs::write(path, crate::report::junit::render(cases)).map_err(|e| {
        error!("cannot write {}: {e}", path.display());
        2
    })
}

/// Judge one variant's failure counts (check -> (failing runs, first failing seed)) from a
/// sweep or a matrix against the scenario's expectation, as `racelab run` judges its seeds.
/// `hunt`: a bounded or exhaustive search that stops at its first failure, so an expectation
/// that names several invariants is met by a failure that breaks only listed ones.
pub fn judge_counts(
    scenario: &Scenario,
    variant: &str,
    runs: u64,
    failed_runs: u64,
    failures: std::collections::BTreeMap<String, (u64, u64)>,
    hunt: bool,
) -> Result<(), String> {
    use crate::scenario::Expected;
    let report = crate::explore::run::VariantReport {
        variant: variant.to_owned(),
        runs,
        failures,
        failed_seeds: failed_runs,
        first_failure: None,
        first_hash: String::new(),
        runs_per_sec: 0.0,
    };
    let verdict = crate::explore::run::judge(scenario, &report);
    if verdict.is_err() && hunt && !report.failures.is_empty() {
        match scenario.expectation(variant).map(|e| &e.expected) {
            Some(Expected::Includes(_)) => return Ok(()),
            Some(Expected::Violates(names)) if report.failures.keys().all(|k| names.contains(k)) => return Ok(()),
            _ => {}
        }
    }
    verdict
}

/// `--save-regressions`: keep `failure`, a run of a variant the scenario at `file` expects to
/// hold, as a shrunk regression file in the `racelab-regressions/` folder beside it. Nothing
/// is written for a variant expected to fail (its failures are the point of it), nor when a
/// regression already kept for the variant still fails (the failure is not new). Messages
/// go to standard error; a failure to save is a warning, not the run's result.
pub fn keep_regression(file: &Path, scenario: &Scenario, failure: &Failure) {
    use crate::explore::shrink::{ShrinkConfig, shrink};
    use crate::scenario::Expected;
    let v = &failure.variant;
    if !matches!(scenario.expectation(v).map(|e| &e.expected), Some(Expected::Holds)) {
        return;
    }
    if let Err(e) = crate::testing::check_regressions(file, scenario, Some(v)) {
        let first = e.0.lines().next().unwrap_or_default().to_owned();
        eprintln!("not saved: a regression of {} / {v} already fails ({first})", scenario.name);
        return;
    }
    let mut kept = match shrink(scenario, failure, ShrinkConfig::default()) {
        Ok(r) => r.failure,
        Err(e) => {
            eprintln!("warning: cannot shrink {} / {v} seed {}: {e}; saved as found", scenario.name, failure.seed);
            failure.clone()
        }
    };
    // Named from the regression folder, so `racelab replay` finds the scenario from anywhere.
    if let Some(name) = file.file_name() {
        kept.file = format!("../{}", name.to_string_lossy());
    }
    match crate::testing::save_regression(file, &kept) {
        Ok(path) => eprintln!("saved regression {}", path.display()),
        Err(e) => {
            eprintln!("warning: cannot save a regression of {} / {v} beside {}: {e}", scenario.name, file.display())
        }
    }
}

/// Parse `--strategy`.
pub fn strategy_arg(s: &str) -> Result<StrategyKind, String> {
    s.parse()
}

/// Build the simulation of `variant`, printing a located error (exit code 2) if it is bad.
pub fn build(scenario: &Scenario, variant: &str) -> Result<Sim, i32> {
    Sim::new(scenario, variant).map_err(|e| {
        scenario_error(&e);
        2
    })
}

/// Replay `tape` (strictly, through the replay strategy) with the full trace kept; `seed`
/// names the run.
pub fn full_replay(
    scenario: &Scenario,
    variant: &str,
    tape: Vec<crate::engine::Choice>,
    seed: u64,
) -> Result<(Outcome, Sim), i32> {
    let mut sim = build(scenario, variant)?;
    sim.trace_level(TraceLevel::Full);
    let mut replay = Replay::new(tape, seed);
    let mut last = None;
    drive_one(&mut sim, &mut replay, |ran| {
        last = Some(ran.outcome.clone());
        true
    });
    let outcome = last.ok_or_else(|| {
        error!("the replay made no run");
        2
    })?;
    Ok((outcome, sim))
}

/// Run `seed` of `strategy` and re-run it with the full trace kept. Exit code 2 (with a
/// message) if the strategy has no such run.
pub fn seed_run(scenario: &Scenario, variant: &str, strategy: &Spec, seed: u64) -> Result<(Ran, Outcome, Sim), i32> {
    let mut sim = build(scenario, variant)?;
    let Some(ran) = strategy.run_seed(&mut sim, seed) else {
        error!(
            "strategy {} has no run {seed} for {} / {variant} (its search is smaller)",
            strategy.kind, scenario.name
        );
        return Err(2);
    };
    let (outcome, sim) = full_replay(scenario, variant, ran.choices.clone().unwrap_or_default(), seed)?;
    Ok((ran, outcome, sim))
}

/// Print a run's timeline or JSONL trace.
pub fn print_run(sim: &Sim, outcome: &Outcome, format: Format) {
    match format {
        Format::Text => print!("{}", timeline::render(sim.trace(), sim.names(), outcome)),
        Format::Jsonl => print!("{}", jsonl::render(sim.trace(), sim.names(), outcome)),
    }
}
