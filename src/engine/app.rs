//! `App` extensions: what a model's plugin calls to get the engine's building blocks.
//!
//! ```
//! use racelab::prelude::*;
//! use racelab::engine::trace::Describe;
//!
//! #[derive(Clone, Debug)]
//! struct Ping;
//! impl Describe for Ping {
//!     fn label(&self) -> &'static str { "ping" }
//! }
//!
//! #[derive(Clone, Debug)]
//! struct Retry;
//!
//! let mut app = App::empty();
//! app.add_plugins(racelab::engine::EnginePlugin);
//! // A faulty wire for `Ping`, timers carrying `Retry`: both ordered by the one agenda.
//! app.add_wire::<Ping>().add_timers::<Retry>();
//! ```

use crate::engine::clock::DueFn;
use crate::engine::ids::Id;
use crate::engine::schedule::{FinishSchedule, FinishStage, Resets, SetupSchedule, SetupStage, Stage, TickSchedule};
use crate::engine::script::ScriptPlugin;
use crate::engine::spec::At;
use crate::engine::state::Engine;
use crate::engine::timers::TimerPlugin;
use crate::engine::trace::Describe;
use crate::engine::wire::{Payload, WirePlugin};
use bevy_app::App;
use bevy_ecs::message::Message;
use bevy_ecs::prelude::*;
use bevy_ecs::schedule::IntoScheduleConfigs;
use bevy_ecs::system::ScheduleSystem;

/// Building blocks for plugins.
pub trait SimApp {
    /// Register message type `M` with the tick: its buffers turn over every tick and are
    /// emptied between runs.
    fn add_sim_message<M: Message>(&mut self) -> &mut Self;
    /// Register a function run at the start of every run, before setup.
    fn add_reset(&mut self, reset: fn(&mut World)) -> &mut Self;
    /// Register when a source of work next needs the clock, asked at the end of every visited
    /// tick (instead of a system pushing to [`crate::engine::Horizon`] on every step).
    fn add_due_source(&mut self, due: DueFn) -> &mut Self;
    /// Insert `value` as a resource that every run starts from: the engine puts a fresh
    /// clone back at the start of each run, so the model cannot forget to reset it.
    fn insert_sim_resource<R: Resource + Clone>(&mut self, value: R) -> &mut Self;
    /// [`SimApp::insert_sim_resource`] with the resource's default value.
    fn init_sim_resource<R: Resource + Clone + Default>(&mut self) -> &mut Self {
        self.insert_sim_resource(R::default())
    }
    /// A faulty wire for message type `M`: models write `Outbound<M>` and read `Inbound<M>`.
    fn add_wire<M: Payload>(&mut self) -> &mut Self;
    /// Timers carrying payloads of type `T`: arm with `Timers<T>`, read `Fired<T>`.
    fn add_timers<T: Clone + Send + Sync + 'static>(&mut self) -> &mut Self;
    /// The scenario's scripted steps as actions of type `A`, read as `Act<A>`.
    fn add_script<A: Describe + Clone + Send + Sync + 'static>(&mut self, steps: Vec<(At, A)>) -> &mut Self;
    /// Systems that spawn the model's entities at the start of every run, after the engine's.
    fn add_setup<M>(&mut self, systems: impl IntoScheduleConfigs<ScheduleSystem, M>) -> &mut Self;
    /// The model's systems of one tick, between delivery and dispatch (they run once per
    /// step: see [`crate::engine::agenda`]).
    fn add_model_systems<M>(&mut self, systems: impl IntoScheduleConfigs<ScheduleSystem, M>) -> &mut Self;
    /// Invariant and monitor systems, run after the model's every step.
    fn add_checks<M>(&mut self, systems: impl IntoScheduleConfigs<ScheduleSystem, M>) -> &mut Self;
    /// End-of-run checks, run once at quiescence.
    fn add_finish_checks<M>(&mut self, systems: impl IntoScheduleConfigs<ScheduleSystem, M>) -> &mut Self;
    /// A liveness monitor: hot conditions must turn cold within `deadline` ticks of the later
    /// of when they turned hot and the heal point.
    fn declare_monitor(&mut self, monitor: &'static str, deadline: u64) -> &mut Self;
    /// The stable id named `name`, interned now (before any run) so its number is the same
    /// in every run.
    fn intern(&mut self, name: &str) -> Id;
}

/// The initial value of a resource inserted with [`SimApp::insert_sim_resource`].
#[derive(Resource)]
struct Initial<R: Resource + Clone>(R);

impl SimApp for App {
    fn add_sim_message<M: Message>(&mut self) -> &mut Self {
        crate::engine::turnover::register::<M>(self);
        self
    }

    fn add_reset(&mut self, reset: fn(&mut World)) -> &mut Self {
        self.world_mut().get_resource_or_init::<Resets>().0.push(reset);
        self
    }

    fn add_due_source(&mut self, due: DueFn) -> &mut Self {
        crate::engine::clock::add_due_source(self.world_mut(), due, None);
        self
    }

    fn insert_sim_resource<R: Resource + Clone>(&mut self, value: R) -> &mut Self {
        let first = !self.world().contains_resource::<Initial<R>>();
        self.insert_resource(value.clone());
        self.insert_resource(Initial(value));
        if first {
            self.add_reset(|w| {
                let fresh = w.resource::<Initial<R>>().0.clone();
                w.insert_resource(fresh);
            });
        }
        self
    }

    fn add_wire<M: Payload>(&mut self) -> &mut Self {
        self.add_plugins(WirePlugin::<M>::default())
    }

    fn add_timers<T: Clone + Send + Sync + 'static>(&mut self) -> &mut Self {
        self.add_plugins(TimerPlugin::<T>::default())
    }

    fn add_script<A: Describe + Clone + Send + Sync + 'static>(&mut self, steps: Vec<(At, A)>) -> &mut Self {
        self.add_plugins(ScriptPlugin::new(steps))
    }

    fn add_setup<M>(&mut self, systems: impl IntoScheduleConfigs<ScheduleSystem, M>) -> &mut Self {
        self.add_systems(SetupSchedule, systems.in_set(SetupStage::Model))
    }

    fn add_model_systems<M>(&mut self, systems: impl IntoScheduleConfigs<ScheduleSystem, M>) -> &mut Self {
        self.add_systems(TickSchedule, systems.in_set(Stage::Model))
    }

    fn add_checks<M>(&mut self, systems: impl IntoScheduleConfigs<ScheduleSystem, M>) -> &mut Self {
        self.add_systems(TickSchedule, systems.in_set(Stage::Check))
    }

    fn add_finish_checks<M>(&mut self, systems: impl IntoScheduleConfigs<ScheduleSystem, M>) -> &mut Self {
        self.add_systems(FinishSchedule, systems.in_set(FinishStage::Check))
    }

    fn declare_monitor(&mut self, monitor: &'static str, deadline: u64) -> &mut Self {
        // Declarations survive between runs (only hot conditions are reset), so once is enough.
        self.world_mut().resource_mut::<Engine>().monitors.declare(monitor, deadline);
        self
    }

    fn intern(&mut self, name: &str) -> Id {
        self.world_mut().resource_mut::<Engine>().names.intern(name)
    }
}
