//! racelab: deterministic simulation of races in event-driven client code, on Bevy's ECS.
//!
//! A race (a callback firing after dispose, two reconnects overlapping, a tracker that
//! duplicates events under backpressure) becomes a scenario file plus a seed that fails the
//! same way every time; a proposed fix becomes a variant that must pass the same seeds.
//!
//! - [`engine`]: the deterministic core. One seeded decision tape is the only randomness;
//!   a generic wire delays, drops, duplicates and reorders messages; systems run in a fixed
//!   order every virtual tick; invariants and liveness monitors give a verdict; every run
//!   has a trace and a trace hash.
//! - [`scenario`]: TOML scenario files, with every error located (file, line, column),
//!   resolved against a [`engine::Registry`] of models.
//! - [`models`]: the shipped models, one Bevy plugin each, in `Registry::builtin()`. A model
//!   of your own implements [`engine::Model`] and joins with `Registry::builtin().with(...)`;
//!   `racelab::cli::main(registry)` gives it the whole command line (see `docs/models.md`).
//! - [`explore`], [`report`], [`cli`]: running variants over seeds, timelines, the command line.
//!
//! # Example
//!
//! Reproduce the dispose-during-ICE race of the WebRTC signaling model (a candidate sent for
//! a connection `dispose()` already took out of `_connections`), then check that a seed
//! replays to the same trace, and that the fix that shipped passes the seed that breaks the
//! code as it was:
//!
//! ```
//! use racelab::prelude::*;
//!
//! let text = r#"
//! name = "dispose_during_ice"
//! model = "signaling"
//! max_ticks = 2000
//!
//! [signaling]
//! await = [1, 6]
//! ice_candidates = [2, 4]
//!
//! [faults]
//! delay = [1, 10]
//! heal_at = 1500
//!
//! [[step]]
//! at = 0
//! do = "enable_external"
//! server = "A"
//!
//! [[step]]
//! at = 10
//! do = "connect"
//! peer = "P1"
//!
//! [[step]]
//! at = 12
//! do = "connect"
//! peer = "P2"
//!
//! [[step]]
//! at = [40, 120]
//! do = "dispose"
//! "#;
//! let scenario = Scenario::parse(&Registry::builtin(), "inline.toml", text)?;
//!
//! let mut current = Sim::new(&scenario, "flag_callback")?;
//! let failure = (0..100)
//!     .map(|seed| current.seed(seed))
//!     .find(|o| o.verdict.failed_check() == Some("no_candidate_for_removed_connection"))
//!     .expect("the race shows within 100 seeds");
//!
//! // Same scenario, variant and seed: the same trace, byte for byte.
//! assert_eq!(current.seed(failure.seed).trace_hash, failure.trace_hash);
//!
//! // The recorded tape replays exactly, too.
//! let tape = current.choices().to_vec();
//! assert_eq!(current.tape(tape).trace_hash, failure.trace_hash);
//!
//! // The fix that shipped (its signaling subscription cancelled first in dispose) passes it.
//! let mut fixed = Sim::new(&scenario, "shipped_stream")?;
//! assert!(fixed.seed(failure.seed).verdict.is_pass());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
pub mod cli;
pub mod engine;
pub mod explore;
pub mod models;
pub mod report;
pub mod scenario;
pub mod testing;

/// Bevy's ECS and App crates, the versions racelab is built on: a model in another crate
/// uses these so its systems and plugins match.
pub use bevy_app;
pub use bevy_ecs;

/// The names most users and model authors need, Bevy's ECS prelude included.
pub mod prelude {
    // Bevy's derives expand to `bevy_ecs::...` paths: with these in scope a model crate
    // needs no Bevy dependency of its own.
    pub use crate::engine::agenda::last_step;
    pub use crate::engine::app::SimApp;
    pub use crate::engine::ctx::SimCtx;
    pub use crate::engine::model::{Model, ModelConfig, StepDoc, VariantDoc, Variants};
    pub use crate::engine::schedule::{FinishSchedule, FinishStage, SetupSchedule, SetupStage, Stage, TickSchedule};
    pub use crate::engine::script::Act;
    pub use crate::engine::timers::{Fired, Timers};
    pub use crate::engine::trace::{Args, Describe, EventKind};
    pub use crate::engine::wire::{Inbound, Outbound};
    pub use crate::engine::world::SimWorld;
    pub use crate::engine::{Choice, Engine, Outcome, Registry, Sim, Tape, TraceLevel, Verdict};
    pub use crate::engine::{Id, IdIndex, Names, Violation};
    pub use crate::scenario::{At, Scenario, ScenarioError};
    pub use bevy_app::{self, App, Plugin};
    pub use bevy_ecs::prelude::*;
    pub use bevy_ecs::system::SystemParam;
    pub use bevy_ecs::{self};
}
