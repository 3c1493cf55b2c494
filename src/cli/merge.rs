//! `racelab merge`: join the JSON Lines outputs of sharded sweeps.

use crate::engine::replay::Failure;
use crate::explore::merge::merge;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

/// `racelab merge`.
#[derive(Args, Debug)]
pub struct MergeArgs {
    /// Sweep outputs (`sweep --out`), one per shard.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Write the merged lines here (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Keep at most N failures per (scenario, variant, first broken invariant), as `sweep --keep`.
    #[arg(long, value_name = "N", default_value_t = crate::explore::sweep::KEEP_DEFAULT, conflicts_with = "all_failures")]
    pub keep: u64,
    /// Keep every failure (merge the outputs of `sweep --all-failures`).
    #[arg(long)]
    pub all_failures: bool,
}

/// Merge; the exit code.
pub fn run(args: MergeArgs) -> i32 {
    let mut parts = Vec::new();
    for f in &args.files {
        match Failure::load_all(f) {
            Ok(p) => parts.push(p),
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        }
    }
    let read: usize = parts.iter().map(Vec::len).sum();
    let merged = merge(parts, (!args.all_failures).then_some(args.keep));
    let mut text = String::new();
    for f in &merged {
        text.push_str(&f.to_line());
        text.push('\n');
    }
    let written = match &args.out {
        Some(path) => std::fs::write(path, &text).map_err(|e| format!("cannot write {}: {e}", path.display())),
        None => std::io::stdout().lock().write_all(text.as_bytes()).map_err(|e| e.to_string()),
    };
    if let Err(e) = written {
        eprintln!("error: {e}");
        return 2;
    }
    eprintln!("merged {} files: {read} lines, {} failures after removing duplicates", args.files.len(), merged.len());
    0
}
