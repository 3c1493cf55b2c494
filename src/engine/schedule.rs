//! The schedules and the fixed order of one tick.

use bevy_app::App;
use bevy_ecs::prelude::*;
use bevy_ecs::schedule::{LogLevel, ScheduleBuildSettings, ScheduleLabel, SingleThreadedExecutor};

/// Runs once per visited tick.
#[derive(ScheduleLabel, Debug, Clone, PartialEq, Eq, Hash)]
pub struct TickSchedule;

/// Runs once at the start of each run, after the world is reset: models spawn their entities.
#[derive(ScheduleLabel, Debug, Clone, PartialEq, Eq, Hash)]
pub struct SetupSchedule;

/// Runs once when a run reaches quiescence: end-of-run checks (leaks, final assertions).
#[derive(ScheduleLabel, Debug, Clone, PartialEq, Eq, Hash)]
pub struct FinishSchedule;

/// The stages of a tick, in order.
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// The first stage (empty in the engine: the run loop turns message buffers over before
    /// each step, without a system).
    Begin,
    /// After scripted steps due now became action messages. The run loop does that before
    /// the tick schedule runs ([`StepStarts`]); a system here runs after it.
    Act,
    /// After the step's batch of due envelopes and timers was handed over, which the run loop
    /// also does before the tick schedule runs ([`crate::engine::agenda::deliver`]).
    Deliver,
    /// Model systems react and write outgoing messages.
    Model,
    /// Outgoing messages get their fault decisions and enter the wire.
    Dispatch,
    /// Invariants write violations; liveness monitors update.
    Check,
    /// The engine turns violations and monitors into a verdict.
    Judge,
    /// Models record state changes into the trace.
    Record,
    /// Model work still pending tells the horizon when it needs the clock next (the engine's
    /// own sources answer through the [`crate::engine::clock::DueBoard`]).
    Plan,
}

/// The stages of setup, in order.
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetupStage {
    /// The engine resolves step windows and partitions.
    Engine,
    /// Models spawn their entities.
    Model,
}

/// The stages of finishing, in order.
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FinishStage {
    /// Models check end-of-run invariants.
    Check,
    /// The engine turns violations into a verdict.
    Judge,
}

/// Engine work at the start of a step, before the agenda's hand-over and the tick schedule:
/// a script turning its steps due at `now` into action messages. The run loop calls these in
/// registration order; they are functions, not systems, because they run on every step and a
/// system costs the executor's bookkeeping and a run condition besides its look-ups.
pub type StepFn = fn(&mut World, now: u64);

/// The registered [`StepFn`]s, in registration order, each with the slot on the
/// [`crate::engine::clock::DueBoard`] that says when it has work: the run loop calls it only
/// on steps at or after that tick (`None`: on every step).
#[derive(Resource, Default)]
pub struct StepStarts(pub Vec<(StepFn, Option<usize>)>);

/// Functions that put a resource back to its start-of-run state; plugins register theirs.
#[derive(Resource, Default)]
pub struct Resets(pub Vec<fn(&mut World)>);

/// A system set ordering one generic plugin's systems after the previous one's in a stage,
/// so that several wires or timers touching the same resources have a fixed order.
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Slot {
    stage: Stage,
    n: u32,
}

#[derive(Resource, Default)]
struct SlotCounts(Vec<(Stage, u32)>);

/// A fresh slot in `stage`, ordered after every slot handed out before in that stage.
pub fn slot(app: &mut App, stage: Stage) -> Slot {
    let mut counts = app.world_mut().get_resource_or_init::<SlotCounts>();
    let n = match counts.0.iter_mut().find(|(s, _)| *s == stage) {
        Some((_, n)) => {
            *n += 1;
            *n
        }
        None => {
            counts.0.push((stage, 0));
            0
        }
    };
    let this = Slot { stage, n };
    app.configure_sets(TickSchedule, this.in_set(stage));
    if n > 0 {
        app.configure_sets(TickSchedule, this.after(Slot { stage, n: n - 1 }));
    }
    this
}

/// Create the three schedules with the single-threaded executor, ambiguity detection at
/// error level, and the stages chained.
pub fn init_schedules(app: &mut App) {
    for mut schedule in [Schedule::new(TickSchedule), Schedule::new(SetupSchedule), Schedule::new(FinishSchedule)] {
        schedule.set_executor(SingleThreadedExecutor::new());
        schedule
            .set_build_settings(ScheduleBuildSettings { ambiguity_detection: LogLevel::Error, ..Default::default() });
        app.add_schedule(schedule);
    }
    app.configure_sets(
        TickSchedule,
        (
            Stage::Begin,
            Stage::Act,
            Stage::Deliver,
            Stage::Model,
            Stage::Dispatch,
            Stage::Check,
            Stage::Judge,
            Stage::Record,
            Stage::Plan,
        )
            .chain(),
    );
    app.configure_sets(SetupSchedule, (SetupStage::Engine, SetupStage::Model).chain());
    app.configure_sets(FinishSchedule, (FinishStage::Check, FinishStage::Judge).chain());
}
