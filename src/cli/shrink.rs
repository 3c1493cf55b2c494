//! `racelab shrink`: cut a failure down to its shortest explanation.

use super::{failure_at, failure_scenario};
use crate::engine::Registry;
use crate::explore::shrink::{ShrinkConfig, shrink_and_trace};
use crate::report::shell::replay;
use crate::report::timeline;
use clap::Args;
use std::path::{Path, PathBuf};

/// `racelab shrink`.
#[derive(Args, Debug)]
pub struct ShrinkArgs {
    /// A failure file (from `run --save-failures`) or a sweep's JSON Lines output.
    pub failure: PathBuf,
    /// Which failure of a JSON Lines file (1 = the first line).
    #[arg(long, default_value_t = 1)]
    pub line: usize,
    /// The scenario file to replay against, instead of the one the failure names.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// Where to write the shrunk failure (default: FAILURE.shrunk.json beside the input).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Give up editing after this many runs.
    #[arg(long, default_value_t = ShrinkConfig::default().max_runs)]
    pub max_runs: u64,
}

/// `FAILURE.json` -> `FAILURE.shrunk.json`.
fn default_out(input: &Path) -> PathBuf {
    let stem = input.file_stem().map_or_else(|| "failure".into(), |s| s.to_string_lossy().into_owned());
    input.with_file_name(format!("{stem}.shrunk.json"))
}

/// Shrink; the exit code.
pub fn run(registry: &Registry, args: ShrinkArgs) -> i32 {
    let failure = match failure_at(&args.failure, args.line) {
        Ok(f) => f,
        Err(code) => return code,
    };
    let failure = &failure;
    let scenario = match failure_scenario(registry, &args.failure, failure, args.scenario.as_deref()) {
        Ok((_, s)) => s,
        Err(code) => return code,
    };
    println!(
        "shrinking {} / {} / seed {} ({}): {}",
        failure.scenario,
        failure.variant,
        failure.seed,
        failure.strategy,
        failure.verdict.summary()
    );
    let (report, sim) = match shrink_and_trace(&scenario, failure, ShrinkConfig { max_runs: args.max_runs }) {
        Ok(x) => x,
        Err(e) => {
            // Every shrink error is about its input (a pass, a tape that does not reproduce).
            error!("{e}");
            return 2;
        }
    };
    let (b, a) = (report.before, report.after);
    // "Non-calm": any choice off its calm value (a delay, an order, a window's tick, a
    // fault); not all of them are wire faults.
    println!("  non-calm choices           {:>6} -> {}", b.faults, a.faults);
    println!("  tape choices               {:>6} -> {}", b.choices, a.choices);
    println!("  trace events               {:>6} -> {}", b.events, a.events);
    println!("  last tick                  {:>6} -> {}", b.ticks, a.ticks);
    println!(
        "  {} runs{}",
        report.runs,
        if report.budget_cut { " (the run budget ended the search: --max-runs)" } else { "" }
    );
    let out = args.out.clone().unwrap_or_else(|| default_out(&args.failure));
    if let Err(e) = std::fs::write(&out, report.failure.to_json()) {
        error!("cannot write {}: {e}", out.display());
        return 2;
    }
    println!("wrote {} ({} replays it exactly)\n", out.display(), replay(&out));
    print!("{}", timeline::render(sim.trace(), sim.names(), &report.outcome));
    0
}
