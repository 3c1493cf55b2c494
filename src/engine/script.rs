//! Scripted steps: the scenario's `[[step]]`s, due on a tick or in a window the tape picks.

use crate::engine::schedule::{SetupSchedule, SetupStage, StepStarts};
use crate::engine::spec::At;
use crate::engine::state::Engine;
use crate::engine::trace::{Describe, EventKind};
use bevy_app::{App, Plugin};
use bevy_ecs::message::Messages;
use bevy_ecs::prelude::*;

/// A step that is due now, handed to the model in the Act stage.
#[derive(Message, Clone, Debug)]
pub struct Act<A: Clone + Send + Sync + 'static> {
    /// Index of the step in the file.
    pub index: usize,
    /// The model's action.
    pub action: A,
}

/// The script of a run: the model's actions with their timing.
#[derive(Resource)]
pub struct Script<A: Send + Sync + 'static> {
    steps: Vec<(At, A)>,
    due: Vec<(u64, usize)>,
    next: usize,
    /// Its slot on the engine's due board.
    board: usize,
    /// The turnover slot of `Act<A>`.
    acts: usize,
}

impl<A: Send + Sync + 'static> Script<A> {
    /// The tick of the next step to come.
    fn next_due(&self) -> Option<u64> {
        self.due.get(self.next).map(|d| d.0)
    }

    /// The steps still to come.
    pub fn remaining(&self) -> usize {
        self.due.len() - self.next
    }
}

/// Adds a script of actions of type `A`.
pub struct ScriptPlugin<A> {
    steps: Vec<(At, A)>,
}

impl<A> ScriptPlugin<A> {
    /// A script of `steps` in file order.
    pub fn new(steps: Vec<(At, A)>) -> Self {
        ScriptPlugin { steps }
    }
}

impl<A: Describe + Clone + Send + Sync + 'static> Plugin for ScriptPlugin<A> {
    fn build(&self, app: &mut App) {
        let board = app.world_mut().resource_mut::<Engine>().due.add();
        let acts = crate::engine::turnover::track_input::<Act<A>>(app);
        app.insert_resource(Script { steps: self.steps.clone(), due: Vec::new(), next: 0, board, acts });
        app.add_systems(SetupSchedule, resolve::<A>.in_set(SetupStage::Engine));
        app.world_mut().get_resource_or_init::<StepStarts>().0.push((act::<A>, Some(board)));
    }
}

/// Pick each windowed step's tick from the tape, in file order, and sort by (tick, index).
fn resolve<A: Send + Sync + 'static>(mut script: ResMut<Script<A>>, mut engine: ResMut<Engine>) {
    let (script, engine) = (&mut *script, &mut *engine);
    let tape = &mut engine.tape;
    script.due.clear();
    script.next = 0;
    for (i, (at, _)) in script.steps.iter().enumerate() {
        let tick = match *at {
            At::Tick(t) => t,
            At::Window(lo, hi) => tape.range("step.at", lo, hi),
        };
        script.due.push((tick, i));
    }
    script.due.sort_unstable();
    engine.due.set(script.board, script.next_due());
}

/// At the start of a step: the steps due at `now` become action messages, in order, each
/// traced. A step without one costs one look-up.
fn act<A: Describe + Clone + Send + Sync + 'static>(world: &mut World, now: u64) {
    let mut script = world.resource_mut::<Script<A>>();
    if script.next_due().is_none_or(|t| t > now) {
        return;
    }
    let mut acts = Vec::new();
    while let Some(&(tick, index)) = script.due.get(script.next) {
        if tick > now {
            break;
        }
        script.next += 1;
        acts.push(Act { index, action: script.steps[index].1.clone() });
    }
    let (board, slot, next) = (script.board, script.acts, script.next_due());
    let mut engine = world.resource_mut::<Engine>();
    let Engine { names, trace, due, turnover, .. } = &mut *engine;
    for Act { action, .. } in &acts {
        trace.record(names, now, EventKind::Act, action.actor(), action.label(), action.target(), action.args());
    }
    due.set(board, next);
    turnover.written(slot);
    // An input type turns over as it is written (see `turnover::track_input`).
    let mut messages = world.resource_mut::<Messages<Act<A>>>();
    messages.update();
    messages.write_batch(acts);
}
