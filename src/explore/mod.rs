//! Exploration: running variants over seeds and checking expectations.

pub mod run;
