//! Virtual time. A run visits only ticks that have work: after each tick the clock jumps to
//! the earliest tick any part of the simulation asked for through [`Horizon`].

use bevy_ecs::prelude::*;

/// The current virtual tick.
#[derive(Resource, Debug, Default, Clone, Copy)]
pub struct Clock {
    /// The tick being simulated.
    pub now: u64,
}

/// The earliest future tick with work, gathered anew during each tick.
///
/// Anything that will need the clock later (a queued envelope, a timer, a scripted step, a
/// liveness deadline) calls [`Horizon::at`] every tick while it is pending; when nobody does,
/// the run is quiescent.
#[derive(Resource, Debug, Default, Clone, Copy)]
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
