//! racelab: deterministic simulation of races in event-driven client code, on Bevy's ECS.
pub mod cli;
pub mod engine;
pub mod explore;
pub mod models;
pub mod report;
pub mod scenario;

/// The names most users need.
pub mod prelude {
    pub use crate::engine::{Choice, Outcome, Sim, Tape, TraceLevel, Verdict};
    pub use crate::scenario::{Scenario, ScenarioError};
}
