//! `random`: every value uniform within the fault plan's rates and ranges.
//!
//! Each run decides with the engine's own seeded decider ([`RandomStrategy`]), so seed N
//! here is [`crate::engine::Sim::seed`]`(N)` in the library too.

use super::{Execution, Flow, Next, Ran, SeedRuns, Seeds, Strategy};
use crate::engine::Tape;
pub use crate::engine::tape::RandomStrategy;

/// One uniform run per seed.
pub struct Random {
    runs: SeedRuns,
}

impl Random {
    /// The runs of `seeds`.
    pub fn new(seeds: Seeds) -> Random {
        Random { runs: SeedRuns::new(seeds) }
    }
}

/// The random decider for `seed`.
pub fn strategy(seed: u64) -> RandomStrategy {
    RandomStrategy::new(seed)
}

impl Strategy for Random {
    fn name(&self) -> &'static str {
        "random"
    }

    fn new_execution(&mut self) -> Next {
        match self.runs.next_seed() {
            Some(seed) => Next::Run(Execution::new(seed, Tape::seeded(seed))),
            None => Next::Done,
        }
    }

    fn observe(&mut self, _: &Ran) -> Flow {
        Flow::Continue
    }

    fn planned(&self) -> Option<u64> {
        Some(self.runs.planned())
    }
}
