//! Reading a step's input without fetching every buffer on every step.
//!
//! The engine writes a wire's [`crate::engine::wire::Inbound`], a timer's
//! [`crate::engine::timers::Fired`] and the script's [`crate::engine::script::Act`] only at the
//! start of a step, before the tick schedule, and it knows which it wrote (see
//! [`crate::engine::turnover`]). A model system that reads several of them on every step with
//! `MessageReader`s pays a fetch for each on every step, though a step hands over one batch of
//! one source. A [`StepInput`] asks the [`Engine`] first (one look-up shared by all of a
//! system's inputs) and fetches only the buffers written on the step.

use crate::engine::state::Engine;
use crate::engine::turnover::MessageUpdates;
use bevy_ecs::message::{Message, MessageCursor, Messages};
use bevy_ecs::prelude::*;

/// A reader of message type `M` for an exclusive system (or a function given the world),
/// kept across steps, for instance in a `Local`. It reads exactly what a `MessageReader<M>`
/// in the same place would; for a type the engine writes only at a step's start it skips the
/// buffer on steps that wrote none, and for any other type it reads on every step.
///
/// ```
/// use racelab::engine::{Engine, StepInput};
/// use racelab::engine::timers::Fired;
/// use bevy_ecs::prelude::*;
///
/// #[derive(Clone, Copy)]
/// struct Wake(u32);
///
/// fn react(world: &mut World, mut fired: Local<StepInput<Fired<Wake>>>) {
///     let engine = world.resource::<Engine>();
///     let woken: Vec<u32> = fired.read(world, engine).map(|f| f.0.0).collect();
///     // ... act on `woken` with the world ...
/// #   let _ = woken;
/// }
/// ```
pub struct StepInput<M: Message> {
    /// `None`: not written only at a step's start, so read on every step.
    slot: Option<usize>,
    cursor: MessageCursor<M>,
}

impl<M: Message> FromWorld for StepInput<M> {
    fn from_world(world: &mut World) -> Self {
        let slot = world.get_resource::<MessageUpdates>().and_then(|u| u.input_slot::<M>());
        StepInput { slot, cursor: MessageCursor::default() }
    }
}

impl<M: Message> StepInput<M> {
    /// The messages of `M` not read yet: none, without fetching the buffer, on a step that
    /// wrote none of a type the engine writes at a step's start. `engine` is `world`'s.
    pub fn read<'w>(&'w mut self, world: &'w World, engine: &Engine) -> impl Iterator<Item = &'w M> + 'w {
        let fresh = self.slot.is_none_or(|slot| engine.turnover.fresh(slot));
        let messages = if fresh { world.get_resource::<Messages<M>>() } else { None };
        let cursor = &mut self.cursor;
        messages.map(move |m| cursor.read(m)).into_iter().flatten()
    }
}
