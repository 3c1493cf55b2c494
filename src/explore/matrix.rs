//! The variant matrix: per scenario, variants against invariants over a range of seeds.
//!
//! Each cell says how often a variant violates an invariant (a run stops at its first
//! failure, so each failing seed counts for one invariant only), the first failing seed,
//! and the median number of seeds to the first failure: for every starting point in the
//! range, how many seeds a sweep from there runs until the first failure; the median of
//! those. This is how a team weighs proposed fixes against each other.

use crate::explore::strategy::StrategyKind;
use crate::explore::sweep::{Collect, Summary, SweepConfig, SweepError, Target, sweep};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::ops::Range;
use std::sync::atomic::AtomicBool;

/// One invariant (or monitor, or limit) of one variant.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Cell {
    /// Seeds that failed it.
    pub failing: u64,
    /// Fraction of seeds that failed it.
    pub fraction: f64,
    /// The first such seed.
    pub first: Option<u64>,
    /// Median seeds to the first failure (`None`: more than half the starting points never
    /// reach one within the range).
    pub median_to_first: Option<u64>,
}

impl Cell {
    fn of(failing_positions: &[u64], runs: u64, first_seed: u64) -> Cell {
        Cell {
            failing: failing_positions.len() as u64,
            fraction: if runs == 0 { 0.0 } else { failing_positions.len() as f64 / runs as f64 },
            first: failing_positions.first().map(|&p| first_seed + p),
            median_to_first: median_to_first(failing_positions, runs),
        }
    }
}

/// For failures at sorted positions `failing` among `runs` runs: the median, over every
/// starting position, of the number of runs up to and including the next failure.
///
/// Computed from the gaps between failures, never one entry per run: a range of 2^64 seeds
/// (interrupted, or sharded) must not allocate per seed.
pub fn median_to_first(failing: &[u64], runs: u64) -> Option<u64> {
    if runs == 0 {
        return None;
    }
    // Starting points `s..=e` whose next failure is at `p`: distances `p - i + 1`.
    let mut segments: Vec<(u64, u64, u64)> = Vec::with_capacity(failing.len());
    let mut start = 0u64;
    for &p in failing {
        if p < start || start >= runs {
            continue;
        }
        segments.push((start, p.min(runs - 1), p));
        start = p.saturating_add(1);
    }
    // How many starting points reach a failure within `d` runs.
    let within = |d: u64| -> u64 {
        segments
            .iter()
            .map(|&(s, e, p)| {
                let from = s.max((p + 1).saturating_sub(d));
                (e + 1).saturating_sub(from)
            })
            .sum()
    };
    let need = (runs - 1) / 2 + 1;
    let max = segments.iter().map(|&(s, _, p)| p - s + 1).max()?;
    if within(max) < need {
        return None;
    }
    // The smallest distance that at least `need` starting points reach.
    let (mut lo, mut hi) = (1u64, max);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if within(mid) >= need { hi = mid } else { lo = mid + 1 }
    }
    Some(lo)
}

/// One variant's row.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    /// The variant.
    pub variant: String,
    /// Runs made.
    pub runs: u64,
    /// Per invariant, monitor or limit.
    pub cells: BTreeMap<String, Cell>,
    /// Any failure at all.
    pub any: Cell,
    /// Runs per second of one worker thread.
    pub runs_per_sec: f64,
}

/// One scenario's matrix.
#[derive(Clone, Debug, Serialize)]
pub struct Matrix {
    /// Scenario name.
    pub scenario: String,
    /// Its file.
    pub file: String,
    /// Seeds run.
    pub seeds: Range<u64>,
    /// The strategy.
    pub strategy: StrategyKind,
    /// Columns: the model's invariants and monitors, then anything else that failed.
    pub checks: Vec<String>,
    /// One row per variant.
    pub rows: Vec<Row>,
}

/// Sweep `targets` over `seeds` with `strategy` on `jobs` workers and build one matrix per
/// scenario (in the order the targets name them).
pub fn matrix(
    targets: Vec<Target>,
    seeds: Range<u64>,
    strategy: StrategyKind,
    jobs: usize,
    stop: &AtomicBool,
) -> Result<(Vec<Matrix>, Summary), SweepError> {
    let mut cfg = SweepConfig::new(targets, seeds.clone());
    cfg.strategy = strategy;
    cfg.hunt = false;
    cfg.jobs = jobs;
    // Every failing seed counts in the matrix, not only the first few a sweep writes out.
    cfg.keep = None;
    let mut found = Collect::default();
    let summary = sweep(&cfg, stop, &mut found)?;
    // Failing positions per (target, check), sorted (commit order is seed order per target).
    let mut fails: BTreeMap<(usize, String), Vec<u64>> = BTreeMap::new();
    let mut any: BTreeMap<usize, Vec<u64>> = BTreeMap::new();
    for (t, f) in &found.failures {
        let Some(pos) = f.seed.checked_sub(seeds.start) else { continue };
        // Every invariant the run broke counts in its column, not only the first.
        for check in f.checks() {
            fails.entry((*t, check.to_owned())).or_default().push(pos);
        }
        any.entry(*t).or_default().push(pos);
    }
    let mut out: Vec<Matrix> = Vec::new();
    for (t, target) in cfg.targets.iter().enumerate() {
        let idx = match out.iter().position(|m| m.file == target.file && m.scenario == target.scenario.name) {
            Some(i) => i,
            None => {
                let checks = target.scenario.model_impl().invariants(Some(&target.scenario));
                out.push(Matrix {
                    scenario: target.scenario.name.clone(),
                    file: target.file.clone(),
                    seeds: seeds.clone(),
                    strategy,
                    checks,
                    rows: Vec::new(),
                });
                out.len() - 1
            }
        };
        let p = &summary.progress.targets[t];
        let mut cells = BTreeMap::new();
        for ((_, check), positions) in fails.range((t, String::new())..(t + 1, String::new())) {
            cells.insert(check.clone(), Cell::of(positions, p.runs, seeds.start));
            if !out[idx].checks.contains(check) {
                out[idx].checks.push(check.clone());
            }
        }
        let any = Cell::of(any.get(&t).map_or(&[][..], Vec::as_slice), p.runs, seeds.start);
        out[idx].rows.push(Row {
            variant: target.variant.clone(),
            runs: p.runs,
            cells,
            any,
            runs_per_sec: p.runs_per_sec(),
        });
    }
    Ok((out, summary))
}

fn cell_text(c: Option<&Cell>, runs: u64) -> String {
    match c {
        None => "-".to_owned(),
        Some(c) if c.failing == 0 => "-".to_owned(),
        Some(c) => {
            let median = c.median_to_first.map_or(format!(">{runs}"), |m| m.to_string());
            format!("{:.1}% (first {}, median {median})", c.fraction * 100.0, c.first.unwrap_or(0))
        }
    }
}

/// The matrices as Markdown tables: each cell is "percent of seeds (first failing seed,
/// median seeds to the first failure)".
pub fn markdown(matrices: &[Matrix]) -> String {
    let mut s = String::new();
    for m in matrices {
        let _ = writeln!(
            s,
            "### {} (`{}`, seeds {}..{}, strategy {})\n",
            m.scenario, m.file, m.seeds.start, m.seeds.end, m.strategy
        );
        let _ = write!(s, "| variant |");
        for c in &m.checks {
            let _ = write!(s, " {c} |");
        }
        let _ = writeln!(s, " any failure | runs/s |");
        let _ = write!(s, "|---|");
        for _ in &m.checks {
            let _ = write!(s, "---|");
        }
        let _ = writeln!(s, "---|---:|");
        for r in &m.rows {
            let _ = write!(s, "| {} |", r.variant);
            for c in &m.checks {
                let _ = write!(s, " {} |", cell_text(r.cells.get(c), r.runs));
            }
            let _ = writeln!(s, " {} | {:.0} |", cell_text(Some(&r.any), r.runs), r.runs_per_sec);
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::median_to_first;

    #[test]
    fn median_seeds_to_first_failure() {
        // Failures at 0 and 5 of 10: distances 1,5,4,3,2,1,inf,inf,inf,inf -> sorted
        // 1,1,2,3,4,5,inf.. -> lower median (index 4) = 4.
        assert_eq!(median_to_first(&[0, 5], 10), Some(4));
        assert_eq!(median_to_first(&[], 10), None);
        assert_eq!(median_to_first(&[0, 1, 2, 3], 4), Some(1));
        // A failure only at the end: from start i it takes 10 - i runs; the (lower) median is 5.
        assert_eq!(median_to_first(&[9], 10), Some(5));
        // Every range size, against the one-entry-per-start definition.
        for runs in 1..12u64 {
            for mask in 0..(1u32 << runs) {
                let failing: Vec<u64> = (0..runs).filter(|i| mask & (1 << i) != 0).collect();
                let mut dist: Vec<u64> =
                    (0..runs).map(|i| failing.iter().find(|&&p| p >= i).map_or(u64::MAX, |p| p - i + 1)).collect();
                dist.sort_unstable();
                let m = dist[(dist.len() - 1) / 2];
                assert_eq!(median_to_first(&failing, runs), (m != u64::MAX).then_some(m), "{failing:?} of {runs}");
            }
        }
        // A huge range costs nothing.
        assert_eq!(median_to_first(&[3], u64::MAX), None);
    }
}
