//! Joining the outputs of sharded sweeps.
//!
//! Shards write their failures in the order they committed them; merging sorts by (file,
//! scenario, variant, strategy, seed) and drops exact duplicates (a shard run twice), so
//! merging the shards of a sweep gives the same lines as merging the unsharded sweep's file.
//!
//! A sweep writes at most `keep` failures per (pair, first broken check), its first by seed;
//! merging keeps the first `keep` of each again. Each of the unsharded sweep's first `keep` is
//! among the first `keep` of its own shard, so the merged shards are still the unsharded file.

use crate::engine::replay::Failure;

/// The failures of all `parts`, sorted and without duplicates, at most `keep` per (pair,
/// strategy, first broken check) (`None`: all).
pub fn merge(parts: impl IntoIterator<Item = Vec<Failure>>, keep: Option<u64>) -> Vec<Failure> {
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
    let mut kept: std::collections::BTreeMap<(String, String, String, String, String), u64> = Default::default();
    all.into_iter()
        .map(|(_, f)| f)
        .filter(|f| {
            let Some(keep) = keep else { return true };
            let key = (
                f.file.clone(),
                f.scenario.clone(),
                f.variant.clone(),
                f.strategy.clone(),
                f.verdict.failed_check().unwrap_or_default().to_owned(),
            );
            let n = kept.entry(key).or_default();
            *n += 1;
            *n <= keep
        })
        .collect()
}
