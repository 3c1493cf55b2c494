//! Model timers on virtual time: timeouts, backoff, health checks, async continuations.
//!
//! A model keeps a [`Timers<T>`] resource, arms timers with a payload of its own type, and
//! reads [`Fired<T>`] messages in its Model systems. Timers due on the same tick fire in
//! the order they were armed: where a model wants that order to be a race, it says so by
//! drawing the delays from the tape.

use crate::engine::clock::Clock;
use crate::engine::clock::Horizon;
use crate::engine::queue::DueQueue;
use crate::engine::schedule::{SimApp, Stage, TickSchedule, slot};
use bevy_app::{App, Plugin};
use bevy_ecs::prelude::*;
use std::marker::PhantomData;

/// Pending timers carrying payloads of type `T`.
#[derive(Resource)]
pub struct Timers<T: Send + Sync + 'static> {
    queue: DueQueue<T>,
}

impl<T: Send + Sync + 'static> Default for Timers<T> {
    fn default() -> Self {
        Timers { queue: DueQueue::default() }
    }
}

impl<T: Send + Sync + 'static> Timers<T> {
    /// Fire `payload` `delay` ticks after `now` (at least one tick later).
    pub fn after(&mut self, now: u64, delay: u64, payload: T) {
        self.queue.push(now + delay.max(1), payload);
    }

    /// Cancel every timer for which `keep` is false.
    pub fn retain(&mut self, keep: impl FnMut(&T) -> bool) {
        self.queue.retain(keep);
    }

    /// Number of pending timers.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether none is pending.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// The pending payloads, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.queue.iter()
    }
}

/// A timer that came due.
#[derive(Message, Clone, Debug)]
pub struct Fired<T: Clone + Send + Sync + 'static>(pub T);

/// Adds timers with payload `T`.
pub struct TimerPlugin<T>(PhantomData<T>);

impl<T> Default for TimerPlugin<T> {
    fn default() -> Self {
        TimerPlugin(PhantomData)
    }
}

impl<T: Clone + Send + Sync + 'static> Plugin for TimerPlugin<T> {
    fn build(&self, app: &mut App) {
        app.init_resource::<Timers<T>>();
        app.add_sim_message::<Fired<T>>();
        app.add_reset(|w| w.resource_mut::<Timers<T>>().queue.clear());
        let fire_slot = slot(app, Stage::Deliver);
        let plan_slot = slot(app, Stage::Plan);
        app.add_systems(TickSchedule, fire::<T>.in_set(fire_slot));
        app.add_systems(TickSchedule, plan::<T>.in_set(plan_slot));
    }
}

fn fire<T: Clone + Send + Sync + 'static>(
    mut timers: ResMut<Timers<T>>,
    clock: Res<Clock>,
    mut fired: MessageWriter<Fired<T>>,
) {
    while let Some((_, _, payload)) = timers.queue.pop_due(clock.now) {
        fired.write(Fired(payload));
    }
}

fn plan<T: Send + Sync + 'static>(timers: Res<Timers<T>>, mut horizon: ResMut<Horizon>) {
    horizon.at_opt(timers.queue.next_due());
}
