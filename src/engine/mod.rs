//! The deterministic core. It knows no model: models plug in through [`model::Model`] and the
//! generic building blocks here (wire, timers, script, checks, trace).

pub mod agenda;
pub mod app;
pub mod check;
pub mod clock;
pub mod ctx;
pub mod determinism;
pub mod faults;
pub(crate) mod hash;
pub mod ids;
pub mod input;
pub mod model;
pub mod order;
pub mod queue;
pub mod replay;
pub mod schedule;
pub mod script;
pub mod sim;
pub mod spec;
pub mod state;
pub mod stats;
pub mod tape;
pub mod timers;
pub mod trace;
pub mod turnover;
pub mod wire;
pub mod world;

use bevy_app::{App, Plugin};
use bevy_ecs::prelude::*;

pub use app::SimApp;
pub use check::{Monitors, RunStatus, Verdict, Violation};
pub use clock::{Clock, DueFn, DueSource, DueSources, Horizon};
pub use ctx::SimCtx;
pub use faults::FaultPlan;
pub use ids::{Id, IdIndex, Names};
pub use input::StepInput;
pub use model::{Model, ModelConfig, Registry, StepDoc, VariantDoc};
pub use sim::{Outcome, Sim};
pub use state::Engine;
pub use tape::{Choice, Tape};
pub use trace::{Args, Describe, Event, EventKind, Trace, TraceLevel};
pub use world::SimWorld;

/// The run's limits (a field of [`Engine`]).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Halt after this tick.
    pub max_ticks: u64,
    /// Halt after this many messages entered the wire.
    pub max_messages: u64,
}

impl Default for Limits {
    /// No limit: for an app built without a scenario (a scenario always sets both).
    fn default() -> Self {
        Limits { max_ticks: u64::MAX, max_messages: u64::MAX }
    }
}

/// The engine's resources and bookkeeping systems.
pub struct EnginePlugin;

impl Plugin for EnginePlugin {
    fn build(&self, app: &mut App) {
        use schedule::*;
        init_schedules(app);
        app.init_resource::<Resets>();
        app.init_resource::<turnover::MessageUpdates>();
        app.init_resource::<Engine>();
        let violations = turnover::track::<Violation>(app);
        app.world_mut().resource_mut::<Engine>().turnover.violations = violations;
        app.init_resource::<DueSources>();
        app.init_resource::<StepStarts>();
        // Message buffers turn over, scripts act and the agenda hands over by the run loop
        // before each step's schedule (`Sim::run`), not by systems.
        let judge_needed = check::judge_needed(app.world().resource::<Engine>());
        app.add_systems(TickSchedule, check::judge.run_if(judge_needed).in_set(Stage::Judge));
        app.add_systems(FinishSchedule, check::judge_final.in_set(FinishStage::Judge));
    }
}
