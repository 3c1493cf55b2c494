//! The command line: one file per subcommand, dispatched from here.

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

use crate::engine::{Outcome, Registry, Sim, TraceLevel};
use crate::explore::pool::drive_one;
use crate::explore::strategy::replay::Replay;
use crate::explore::strategy::{Ran, Spec, StrategyKind};
use crate::report::{jsonl, timeline};
use crate::scenario::{Scenario, parse_seed_range};
use clap::{Parser, Subcommand, ValueEnum};
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// racelab: reproduce and fix races in event-driven code, deterministically.
#[derive(Parser, Debug)]
#[command(name = "racelab", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
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
    let cli = Cli::parse();
    std::process::exit(main_with(&registry, cli))
}

/// Run one parsed command line with the models in `registry`; the process exit code.
pub fn main_with(registry: &Registry, cli: Cli) -> i32 {
    match cli.command {
        Command::Run(args) => run::run(registry, args),
        Command::Replay(args) => replay::replay(registry, args),
        Command::Explain(args) => explain::explain(registry, args),
        Command::List => list::list(registry),
        Command::Sweep(args) => sweep::run(registry, args),
        Command::Shrink(args) => shrink::run(registry, args),
        Command::Matrix(args) => matrix::run(registry, args),
        Command::Merge(args) => merge::run(args),
        Command::Verify(args) => verify::run(registry, args),
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

/// Raised by Ctrl-C: sweeps stop cleanly and print their summary.
pub static STOP: AtomicBool = AtomicBool::new(false);

/// Make Ctrl-C raise [`STOP`]; a second Ctrl-C exits at once.
pub fn install_ctrlc() {
    // Err only if a handler is already installed (a second sweep in one process): keep it.
    let _ = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::Relaxed) {
            std::process::exit(130);
        }
    });
}

pub use crate::report::shell::program;

/// Load a scenario, printing a located error (exit code 2) if it is bad.
pub fn load(registry: &Registry, path: &Path) -> Result<Scenario, i32> {
    Scenario::load(registry, path).map_err(|e| {
        eprintln!("error: {e}");
        if crate::report::github::enabled() {
            let title = "racelab: bad scenario file";
            println!("{}", crate::report::github::error(&e.file, e.line, e.column, title, &e.message));
        }
        2
    })
}

/// Parse `--strategy`.
pub fn strategy_arg(s: &str) -> Result<StrategyKind, String> {
    s.parse()
}

/// Build the simulation of `variant`, printing a located error (exit code 2) if it is bad.
pub fn build(scenario: &Scenario, variant: &str) -> Result<Sim, i32> {
    Sim::new(scenario, variant).map_err(|e| {
        eprintln!("error: {e}");
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
        eprintln!("error: the replay made no run");
        2
    })?;
    Ok((outcome, sim))
}

/// Run `seed` of `strategy` and re-run it with the full trace kept. Exit code 2 (with a
/// message) if the strategy has no such run.
pub fn seed_run(scenario: &Scenario, variant: &str, strategy: &Spec, seed: u64) -> Result<(Ran, Outcome, Sim), i32> {
    let mut sim = build(scenario, variant)?;
    let Some(ran) = strategy.run_seed(&mut sim, seed) else {
        eprintln!(
            "error: strategy {} has no run {seed} for {} / {variant} (its search is smaller)",
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
