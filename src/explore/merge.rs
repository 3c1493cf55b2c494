//! Joining the outputs of sharded sweeps.
//!
//! Shards write their failures in the order they committed them; merging sorts by (file,
//! scenario, variant, strategy, seed) and drops exact duplicates (a shard run twice), so
//! merging the shards of a sweep gives the same lines as merging the unsharded sweep's file.

use crate::engine::replay::Failure;

/// The failures of all `parts`, sorted and without duplicates.
pub fn merge(parts: impl IntoIterator<Item = Vec<Failure>>) -> Vec<Failure> {
    let mut all: Vec<(String, Failure)> = parts.into_iter().flatten().map(|f| (f.to_line(), f)).collect();
    all.sort_by(|(la, a), (lb, b)| {
        (&a.file, &a.scenario, &a.variant, &a.strategy, a.seed, la).cmp(&(
            &b.file,
            &b.scenario,
            &b.variant,
            &b.strategy,
            b.seed,
            lb,
        ))
    });
    all.dedup_by(|(a, _), (b, _)| a == b);
    all.into_iter().map(|(_, f)| f).collect()
}
