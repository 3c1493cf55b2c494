//! Exploration: running variants over seeds and checking expectations.

pub mod exhaustive;
pub mod run;
