//! `racelab replay`: a saved failure, run again from its tape.

use super::{Format, full_replay, load, print_run};
use crate::engine::Registry;
use crate::engine::replay::Failure;
use clap::Args;
use std::path::{Path, PathBuf};

/// `racelab replay`.
#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// A failure file written by `run --save-failures` or `shrink`, or a sweep's JSON Lines output.
    pub failure: PathBuf,
    /// Which failure of a JSON Lines file (1 = the first line).
    #[arg(long, default_value_t = 1)]
    pub line: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Replay; the exit code.
pub fn replay(registry: &Registry, args: ReplayArgs) -> i32 {
    let failure = match Failure::load_all(&args.failure) {
        Ok(all) => match args.line.checked_sub(1).and_then(|i| all.get(i)) {
            Some(f) => f.clone(),
            None => {
                eprintln!(
                    "error: {}: no failure on line {} (it holds {})",
                    args.failure.display(),
                    args.line,
                    all.len()
                );
                return 2;
            }
        },
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let scenario = match load(registry, Path::new(&failure.file)) {
        Ok(s) => s,
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
