//! Exploration: running variants over seeds and checking expectations, parallel sweeps,
//! search strategies, shrinking failures and the variant matrix. Generic over every model:
//! it only sees scenarios, variants and tapes.

pub mod exhaustive;
pub mod matrix;
pub mod merge;
pub mod pool;
pub mod run;
pub mod search;
pub mod shrink;
pub mod strategy;
pub mod sweep;
