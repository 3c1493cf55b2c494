//! Message turnover: before each step the run loop turns over the buffers of every message
//! type a simulation registered ([`crate::engine::SimApp::add_sim_message`]), so a message
//! written on one step is read on that step or the next and gone two steps later.
//!
//! Turning a buffer over costs a resource look-up, and most steps write few of the types.
//! The types the engine itself writes or reads on the step they are written (a wire's
//! `Outbound` and `Inbound`, a timer's `Fired`, the script's `Act`, `Violation`) are
//! *tracked*: the engine marks a write, and the buffers turn over only before the step
//! after one. That turn-over moves the step's messages to the older buffer, where they stay
//! until the next turn-over, which comes before a later step: so a message is still read
//! on the step it is written or the next, and is dropped no sooner than before (a reader
//! that skips steps may see it for longer). A model's own message types are not tracked and
//! turn over on every step. Of the tracked types, those written only at a step's start
//! (`Inbound`, `Fired`, `Act`: [`track_input`]) turn over as they are written, in the writer's
//! own look-up, and the run loop leaves them alone.

use bevy_app::App;
use bevy_ecs::message::{Message, Messages};
use bevy_ecs::prelude::*;
use std::any::TypeId;

/// Turns the buffers of one message type over.
pub type UpdateFn = fn(&mut World);

/// The registered message types, with each tracked one's slot (read once when a
/// [`crate::engine::Sim`] is built).
#[derive(Resource, Default)]
pub struct MessageUpdates {
    entries: Vec<(TypeId, UpdateFn, Option<usize>)>,
    /// The tracked types the engine writes only at the start of a step, before the tick
    /// schedule (a wire's `Inbound`, a timer's `Fired`, the script's `Act`), with their slots:
    /// what a [`crate::engine::StepInput`] can skip on a step that wrote none.
    inputs: Vec<(TypeId, usize)>,
}

impl MessageUpdates {
    /// Each type's update and its tracking slot, in registration order, except the input
    /// types: their writer turns their buffers over just before it writes (see
    /// [`track_input`]), so the run loop never needs to.
    pub fn list(&self) -> Vec<(UpdateFn, Option<usize>)> {
        let input = |id: TypeId| self.inputs.iter().any(|&(i, _)| i == id);
        self.entries.iter().filter(|e| !input(e.0)).map(|&(_, f, slot)| (f, slot)).collect()
    }

    /// The slot of `M` if the engine writes it only at the start of a step.
    pub(crate) fn input_slot<M: Message>(&self) -> Option<usize> {
        self.inputs.iter().find(|(id, _)| *id == TypeId::of::<M>()).map(|&(_, slot)| slot)
    }
}

/// Which tracked message types were written lately (a field of [`crate::engine::Engine`]).
#[derive(Debug, Default)]
pub struct Turnover {
    /// Per slot: whether the next step turns its buffers over.
    pending: Vec<u8>,
    /// The slot of [`crate::engine::Violation`].
    pub(crate) violations: usize,
}

impl Turnover {
    /// Messages of slot `slot`'s type were written on this step.
    pub fn written(&mut self, slot: usize) {
        self.pending[slot] = 1;
    }

    /// Decide, for the next step, which tracked types turn over (`due[slot]`), counting
    /// that step off.
    pub(crate) fn plan(&mut self, due: &mut [bool]) {
        for (d, p) in due.iter_mut().zip(&mut self.pending) {
            *d = *p > 0;
            *p = p.saturating_sub(1);
        }
    }

    /// Whether messages of slot `slot`'s type were written on this step so far.
    pub(crate) fn fresh(&self, slot: usize) -> bool {
        self.pending[slot] > 0
    }

    /// How many types are tracked.
    pub(crate) fn len(&self) -> usize {
        self.pending.len()
    }

    /// Forget the previous run's writes (its buffers were cleared).
    pub(crate) fn clear(&mut self) {
        self.pending.fill(0);
    }
}

/// Register `M` (once) so that its buffers are cleared at the start of every run and turned
/// over before every step.
pub(crate) fn register<M: Message>(app: &mut App) {
    if app.world().contains_resource::<Messages<M>>() {
        return;
    }
    app.add_message::<M>();
    crate::engine::SimApp::add_reset(app, |w| w.resource_mut::<Messages<M>>().clear());
    app.world_mut().get_resource_or_init::<MessageUpdates>().entries.push((
        TypeId::of::<M>(),
        |w| w.resource_mut::<Messages<M>>().update(),
        None,
    ));
}

/// Register `M` as a tracked type: the engine marks each write with [`Turnover::written`]
/// on the step it happens. Its slot.
pub(crate) fn track<M: Message>(app: &mut App) -> usize {
    register::<M>(app);
    let id = TypeId::of::<M>();
    let known = app.world().resource::<MessageUpdates>().entries.iter().find(|e| e.0 == id).and_then(|e| e.2);
    if let Some(slot) = known {
        return slot;
    }
    let slot = {
        let mut engine = app.world_mut().resource_mut::<crate::engine::Engine>();
        engine.turnover.pending.push(0);
        engine.turnover.pending.len() - 1
    };
    for e in &mut app.world_mut().resource_mut::<MessageUpdates>().entries {
        if e.0 == id {
            e.2 = Some(slot);
        }
    }
    slot
}

/// Register `M` as a tracked type that the engine writes only at the start of a step, before
/// the tick schedule runs (so a reader in the schedule sees each write on the step it
/// happens). Its slot. The engine turns such a type's buffers over itself, in the same
/// look-up, just before each write: a message is read on the step it is written, kept one
/// more write, and dropped no sooner than the turn-over after a write would drop it.
/// The run loop does not turn these over ([`MessageUpdates::list`]).
pub(crate) fn track_input<M: Message>(app: &mut App) -> usize {
    let slot = track::<M>(app);
    let mut updates = app.world_mut().resource_mut::<MessageUpdates>();
    if updates.input_slot::<M>().is_none() {
        updates.inputs.push((TypeId::of::<M>(), slot));
    }
    slot
}
