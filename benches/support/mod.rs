//! What the benches that compare racelab with a hand-written baseline share.

use std::time::{Duration, Instant};

/// Seconds per call of `f` (called with 0, 1, 2, ...) over about `budget` of wall clock: the
/// per-run cost of each side, measured back to back in one process so their ratio holds.
pub fn per_run(mut f: impl FnMut(u64), budget: Duration) -> f64 {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        f(n);
        n += 1;
    }
    start.elapsed().as_secs_f64() / n as f64
}
