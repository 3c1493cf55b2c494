//! `racelab replay`: a saved failure, run again from its tape.

use super::{Format, failure_at, failure_scenario, full_replay, print_run};
use crate::engine::Registry;
use clap::Args;
use std::path::PathBuf;

/// `racelab replay`.
#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// A failure file written by `run --save-failures` or `shrink`, or a sweep's JSON Lines output.
    pub failure: PathBuf,
    /// Which failure of a JSON Lines file (1 = the first line).
    #[arg(long, default_value_t = 1)]
    pub line: usize,
    /// The scenario file to replay against, instead of the one the failure names.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Replay; the exit code.
pub fn replay(registry: &Registry, args: ReplayArgs) -> i32 {
    let failure = match failure_at(&args.failure, args.line) {
        Ok(f) => f,
        Err(code) => return code,
    };
    let scenario = match failure_scenario(registry, &args.failure, &failure, args.scenario.as_deref()) {
        Ok((_, s)) => s,
        Err(code) => return code,
    };
    let (outcome, sim) = match full_replay(&scenario, &failure.variant, failure.tape.clone(), failure.seed) {
        Ok(x) => x,
        Err(code) => return code,
    };
    print_run(&sim, &outcome, args.format);
    let same = outcome.verdict == failure.verdict && outcome.trace_hash == failure.trace_hash;
    if same {
        eprintln!("replayed exactly: same verdict, same trace hash {}", outcome.trace_hash);
        0
    } else {
        eprintln!(
            "replay differs: saved {} (trace {}), replayed {} (trace {})",
            failure.verdict.summary(),
            failure.trace_hash,
            outcome.verdict.summary(),
            outcome.trace_hash
        );
        1
    }
}
