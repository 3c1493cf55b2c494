//! The command line: one file per subcommand, dispatched from here.

mod explain;
mod list;
mod matrix;
mod merge;
mod replay;
mod run;
mod shrink;
mod sweep;

pub use explain::{ExplainArgs, ExplainFormat};
pub use matrix::MatrixArgs;
pub use merge::MergeArgs;
pub use replay::ReplayArgs;
pub use run::RunArgs;
pub use shrink::ShrinkArgs;
pub use sweep::SweepArgs;

use crate::engine::{Outcome, Registry, Sim, Tape, TraceLevel};
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
}

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Human-readable summary and timelines.
    Text,
    /// JSON Lines: canonical traces (with --seed) or one outcome per variant.
    Jsonl,
}

/// Parse `A..B`.
pub fn seeds_arg(s: &str) -> Result<Range<u64>, String> {
    parse_seed_range(s).ok_or_else(|| format!("expected A..B with A < B, found `{s}`"))
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

/// The name this program was started as (`racelab`, or a user's own binary such as
/// `racelab-sockets`), for the commands it prints: they must run the binary that knows the
/// scenario's model.
pub fn program() -> String {
    std::env::args_os()
        .next()
        .and_then(|a| std::path::Path::new(&a).file_name().map(|n| n.to_string_lossy().into_owned()))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "racelab".to_owned())
}

/// Load a scenario, printing a located error (exit code 2) if it is bad.
pub fn load(registry: &Registry, path: &Path) -> Result<Scenario, i32> {
    Scenario::load(registry, path).map_err(|e| {
        eprintln!("error: {e}");
        2
    })
}

/// Run one tape with the full trace kept.
pub fn full_run(scenario: &Scenario, variant: &str, tape: Tape, seed: u64) -> Result<(Outcome, Sim), i32> {
    let mut sim = Sim::new(scenario, variant).map_err(|e| {
        eprintln!("error: {e}");
        2
    })?;
    sim.trace_level(TraceLevel::Full);
    let outcome = sim.run(tape, seed);
    Ok((outcome, sim))
}

/// Print a run's timeline or JSONL trace.
pub fn print_run(sim: &Sim, outcome: &Outcome, format: Format) {
    match format {
        Format::Text => print!("{}", timeline::render(sim.trace(), sim.names(), outcome)),
        Format::Jsonl => print!("{}", jsonl::render(sim.trace(), sim.names(), outcome)),
    }
}
