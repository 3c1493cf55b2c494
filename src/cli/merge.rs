//! `racelab merge`: join the JSON Lines outputs of sharded sweeps.

use crate::explore::merge::merge_files;
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
    let keep = (!args.all_failures).then_some(args.keep);
    let result = match &args.out {
        Some(path) => {
            std::fs::File::create(path).map_err(|e| format!("cannot write {}: {e}", path.display())).and_then(|f| {
                let mut w = std::io::BufWriter::new(f);
                let r = merge_files(&args.files, &mut w, keep)?;
                w.flush().map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                Ok(r)
            })
        }
        None => {
            let mut w = std::io::BufWriter::new(std::io::stdout().lock());
            merge_files(&args.files, &mut w, keep).and_then(|r| w.flush().map(|_| r).map_err(|e| e.to_string()))
        }
    };
    let (read, merged) = match result {
        Ok(x) => x,
        Err(e) => {
            error!("{e}");
            return 2;
        }
    };
    if read == 0 {
        // Nothing at all to merge is a wrong argument (an empty or truncated file), not a result.
        error!("no failure in {} (empty files?)", if args.files.len() == 1 { "the file" } else { "any of the files" });
        return 2;
    }
    eprintln!("merged {} files: {read} lines, {merged} failures after removing duplicates", args.files.len());
    0
}
