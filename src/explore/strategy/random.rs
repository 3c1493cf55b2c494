//! `random`: every value uniform within the fault plan's rates and ranges.
//!
//! This is the engine's own seeded strategy, so seed N of a random sweep is exactly
//! `racelab run --seed N`: a sweep's failure can be looked at with the plain run command.

use crate::engine::tape::RandomStrategy;

/// The random strategy for `seed`.
pub fn strategy(seed: u64) -> RandomStrategy {
    RandomStrategy::new(seed)
}
