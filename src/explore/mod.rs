//! Exploration: running variants over seeds and checking expectations, parallel sweeps,
//! strategies (seeded, bounded and exhaustive search, replay, shrinking), verification and
//! the variant matrix. Generic over every model: it only sees scenarios, variants and tapes.

pub mod matrix;
pub mod merge;
pub mod pool;
pub mod run;
pub mod strategy;
pub mod sweep;
pub mod verify;

pub use strategy::exhaustive;
pub use strategy::shrink;
