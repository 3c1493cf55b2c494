//! Virtual time. A run visits only ticks that have work: after each tick the clock jumps to
//! the earliest tick any part of the simulation asked for through [`Horizon`].

use bevy_ecs::prelude::*;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// The current virtual tick.
#[derive(Debug, Default, Clone, Copy)]
pub struct Clock {
    /// The tick being simulated.
    pub now: u64,
}

/// Run by the run loop after every step: settle what the step left (timers file what was
/// armed) and say when the source next needs the clock; the answer goes to the source's slot
/// on the [`DueBoard`]. A source that registers one (see
/// [`crate::engine::app::SimApp::add_due_source`]) needs no system that runs on every step
/// only to push to the [`Horizon`].
pub type DueFn = fn(&mut World) -> Option<u64>;

/// When each engine source is next due, one slot per source, so the run loop reads one
/// vector in the [`crate::engine::Engine`] instead of one resource per source. A wire or a
/// script writes its slot whenever its queue changes; a source whose queue a model can change
/// behind its back (timers, which models arm and cancel on their resource) has its slot
/// written by its [`DueFn`] after each step that touched it.
#[derive(Debug, Default)]
pub struct DueBoard {
    slots: Vec<Option<u64>>,
}

impl DueBoard {
    /// A new slot (while building the app), empty.
    pub fn add(&mut self) -> usize {
        self.slots.push(None);
        self.slots.len() - 1
    }

    /// Slot `slot`'s source is next due at `due` (`None`: nothing pending).
    pub fn set(&mut self, slot: usize, due: Option<u64>) {
        self.slots[slot] = due;
    }

    /// The earliest tick any slot is due.
    pub fn next(&self) -> Option<u64> {
        self.slots.iter().flatten().min().copied()
    }

    /// When slot `slot`'s source is next due.
    pub fn get(&self, slot: usize) -> Option<u64> {
        self.slots[slot]
    }

    /// Empty every slot (the start of a run).
    pub fn clear(&mut self) {
        self.slots.fill(None);
    }
}

/// The registered [`DueFn`]s, in registration order, each with the slot on the
/// [`DueBoard`] the run loop writes its answer to, and the flag its source sets when a step
/// may have changed its answer (`None`: asked after every step; timers have one).
#[derive(Resource, Default)]
pub struct DueSources(pub Vec<DueSource>);

/// One registered [`DueFn`]: the function, its slot on the [`DueBoard`], and its flag.
pub type DueSource = (DueFn, usize, Option<Arc<AtomicBool>>);

/// Register `due` with a new slot on the due board (and, if given, the flag after whose
/// setting alone it is asked); the slot.
pub(crate) fn add_due_source(world: &mut World, due: DueFn, touched: Option<Arc<AtomicBool>>) -> usize {
    let slot = world.resource_mut::<crate::engine::Engine>().due.add();
    world.get_resource_or_init::<DueSources>().0.push((due, slot, touched));
    slot
}

/// The earliest future tick with work, gathered anew during each tick.
///
/// A model that will need the clock later (a job queued, a deadline of its own) calls
/// [`Horizon::at`] every step while it is pending; the engine's wires, timers and script
/// answer through the [`DueBoard`] and liveness deadlines through the monitors instead. When nobody asks, the run is
/// quiescent.
#[derive(Debug, Default, Clone, Copy)]
pub struct Horizon {
    next: Option<u64>,
}

impl Horizon {
    /// Ask for the clock to visit `tick`.
    pub fn at(&mut self, tick: u64) {
        self.next = Some(self.next.map_or(tick, |n| n.min(tick)));
    }

    /// Ask for `tick` if there is one.
    pub fn at_opt(&mut self, tick: Option<u64>) {
        if let Some(t) = tick {
            self.at(t);
        }
    }

    /// The earliest tick asked for.
    pub fn next(&self) -> Option<u64> {
        self.next
    }

    /// Forget what was asked (the start of each tick).
    pub fn clear(&mut self) {
        self.next = None;
    }
}
