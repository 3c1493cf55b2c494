//! Counters of a run: the engine's own and the model's metrics.

use std::collections::BTreeMap;

/// Wire counters, kept by the engine.
#[derive(Default, Debug, Clone, Copy)]
pub struct Stats {
    /// Messages that entered the wire.
    pub messages: u64,
    /// Envelopes delivered.
    pub delivered: u64,
    /// Envelopes lost.
    pub dropped: u64,
    /// Envelopes copied.
    pub duplicated: u64,
    /// Envelopes held by a cut link.
    pub held: u64,
}

/// Model counters, by name; reported in the outcome.
#[derive(Default, Debug, Clone)]
pub struct Metrics(pub BTreeMap<&'static str, u64>);

impl Metrics {
    /// Add `n` to `name`.
    pub fn add(&mut self, name: &'static str, n: u64) {
        *self.0.entry(name).or_insert(0) += n;
    }

    /// Raise `name` to at least `v`.
    pub fn max(&mut self, name: &'static str, v: u64) {
        let e = self.0.entry(name).or_insert(0);
        *e = (*e).max(v);
    }

    /// The value of `name` (0 if never set).
    pub fn get(&self, name: &str) -> u64 {
        self.0.get(name).copied().unwrap_or(0)
    }
}
