//! What the benches that compare racelab with a hand-written baseline share.

use std::time::{Duration, Instant};

/// Seconds per call of `f` (called with 0, 1, 2, ...) over about `budget` of wall clock: the
/// per-run cost of each side, measured back to back in one process so their ratio holds.
#[allow(dead_code)] // Each bench includes this module and uses what it needs.
pub fn per_run(mut f: impl FnMut(u64), budget: Duration) -> f64 {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        f(n);
        n += 1;
    }
    start.elapsed().as_secs_f64() / n as f64
}

/// What [`interleaved`] measured: each side's seconds per run and its ratio to the first.
#[allow(dead_code)]
pub struct Sides {
    /// Seconds per run of each side: the median over rounds.
    pub per_run: Vec<f64>,
    /// Each side's time over the first side's: the median of the rounds' ratios.
    pub ratio: Vec<f64>,
    /// Rounds run.
    pub rounds: usize,
}

/// Seconds per run of each side, measured in alternating slices over about `budget`: every
/// round runs each side on the same seeds, one side after another, so load that drifts
/// during the measurement (another process, a noisy neighbour on a VM) falls on every side
/// alike instead of on whichever ran last. A slice is about 10 ms of the slowest side.
#[allow(dead_code)]
pub fn interleaved(sides: &mut [&mut dyn FnMut(u64)], budget: Duration) -> Sides {
    // Warm every side up, and size a slice from the first.
    for side in sides.iter_mut() {
        for s in 0..20 {
            side(s);
        }
    }
    // A slice is as many runs as the slowest side does in about 10 ms.
    let mut batch = u64::MAX;
    for side in sides.iter_mut() {
        let start = Instant::now();
        let mut n = 0u64;
        while start.elapsed() < Duration::from_millis(10) {
            side(n);
            n += 1;
        }
        batch = batch.min(n);
    }
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); sides.len()];
    let start = Instant::now();
    let mut round = 0u64;
    while round < 5 || start.elapsed() < budget {
        let seeds = round * batch..(round + 1) * batch;
        for (side, t) in sides.iter_mut().zip(&mut times) {
            let at = Instant::now();
            for s in seeds.clone() {
                side(s);
            }
            t.push(at.elapsed().as_secs_f64() / batch as f64);
        }
        round += 1;
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let ratio = times.iter().map(|t| median(t.iter().zip(&times[0]).map(|(a, b)| a / b).collect())).collect();
    Sides { per_run: times.iter().cloned().map(median).collect(), ratio, rounds: round as usize }
}
