//! Model timers on virtual time: timeouts, backoff, health checks, async continuations.
//!
//! A model keeps a [`Timers<T>`] resource, arms timers with a payload of its own type, and
//! reads [`Fired<T>`] messages in its Model systems. Timers due on a tick are handed over by
//! the [`Agenda`], in one tape-chosen order with every message due then (calm: as armed).

use crate::engine::agenda::Due;
use crate::engine::app::SimApp;
use crate::engine::clock::add_due_source;
use crate::engine::ids::Id;
use crate::engine::queue::DueQueue;
use crate::engine::state::Engine;
use bevy_app::{App, Plugin};
use bevy_ecs::message::Messages;
use bevy_ecs::prelude::*;
use std::any::Any;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Pending timers carrying payloads of type `T`.
#[derive(Resource)]
pub struct Timers<T: Send + Sync + 'static> {
    /// Armed this step, stamped when the Dispatch stage files them.
    armed: Vec<(u64, T)>,
    /// `(stamp, payload)` by due tick.
    queue: DueQueue<(u64, T)>,
    /// This tick's due timers, until the agenda hands them over (`None`: cancelled).
    ready: Vec<Option<T>>,
    /// Set when the model arms or cancels; the run loop files and asks for the next due tick
    /// only after a step that set it (shared with the run loop's list of due sources, so that
    /// a step that touched no timer costs no look-up).
    touched: Arc<AtomicBool>,
}

impl<T: Send + Sync + 'static> Timers<T> {
    /// Only [`TimerPlugin`] makes one: the run loop holds its `touched` flag.
    fn new(touched: Arc<AtomicBool>) -> Self {
        Timers { armed: Vec::new(), queue: DueQueue::default(), ready: Vec::new(), touched }
    }
}

impl<T: Send + Sync + 'static> Timers<T> {
    /// Fire `payload` `delay` ticks after `now` (at least one tick later).
    pub fn after(&mut self, now: u64, delay: u64, payload: T) {
        self.armed.push((now + delay.max(1), payload));
        self.touched.store(true, Ordering::Relaxed);
    }

    /// Cancel every timer for which `keep` is false, including one due this tick that has
    /// not been handed over yet.
    pub fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        self.touched.store(true, Ordering::Relaxed);
        self.armed.retain(|(_, t)| keep(t));
        self.queue.retain(|(_, t)| keep(t));
        for r in &mut self.ready {
            if r.as_ref().is_some_and(|t| !keep(t)) {
                *r = None;
            }
        }
    }

    /// Number of pending timers.
    pub fn len(&self) -> usize {
        self.armed.len() + self.queue.len()
    }

    /// Whether none is pending.
    pub fn is_empty(&self) -> bool {
        self.armed.is_empty() && self.queue.is_empty()
    }

    /// The pending payloads, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.armed.iter().map(|(_, t)| t).chain(self.queue.iter().map(|(_, t)| t))
    }

    /// The earliest due tick.
    fn next_due(&self) -> Option<u64> {
        let armed = self.armed.iter().map(|(d, _)| *d).min();
        match (armed, self.queue.next_due()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
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
        if app.world().contains_resource::<Timers<T>>() {
            return;
        }
        let fired = crate::engine::turnover::track_input::<Fired<T>>(app);
        // A model arms and cancels timers (`after`, `retain`) on the resource, behind the
        // engine's back, so their slot on the due board is written from the queue by a due
        // source after each step that touched them (the `touched` flag), which first files
        // the timers armed during the step: after every wire's envelopes of the step (the calm
        // order of a step is its messages in wire order, then its timers in the order armed).
        let touched = Arc::new(AtomicBool::new(false));
        let board = add_due_source(app.world_mut(), file::<T>, Some(touched.clone()));
        // A timer's due payloads stay in the resource (a model may cancel one until it is
        // handed over), so the agenda's ready list is unused and nothing is recorded.
        app.world_mut().resource_mut::<Engine>().agenda.add_source(
            collect::<T>,
            None,
            hand_over::<T>,
            || Box::new(()),
            Some(board),
            Some(fired),
        );
        app.insert_resource(Timers::<T>::new(touched));
        app.add_reset(|w| {
            let mut t = w.resource_mut::<Timers<T>>();
            t.armed.clear();
            t.queue.clear();
            t.ready.clear();
        });
    }
}

/// After a step that armed or cancelled a timer: stamp and queue the timers armed during it;
/// when the next is due. (This was a system with a run condition, which cost a look-up and
/// a condition's evaluation on every step.)
fn file<T: Send + Sync + 'static>(world: &mut World) -> Option<u64> {
    let mut timers = world.resource_mut::<Timers<T>>();
    if timers.armed.is_empty() {
        return timers.next_due();
    }
    let mut armed = std::mem::take(&mut timers.armed);
    let first = world.resource_mut::<Engine>().agenda.stamps(armed.len() as u64);
    let mut timers = world.resource_mut::<Timers<T>>();
    for (stamp, (due, payload)) in (first..).zip(armed.drain(..)) {
        timers.queue.push(due, (stamp, payload));
    }
    // The emptied vector goes back for its capacity.
    timers.armed = armed;
    timers.next_due()
}

fn collect<T: Send + Sync + 'static>(
    world: &mut World,
    now: u64,
    source: u16,
    out: &mut Vec<Due>,
    _: &mut dyn Any,
) -> Option<u64> {
    let mut timers = world.resource_mut::<Timers<T>>();
    let timers = &mut *timers;
    timers.ready.clear();
    while let Some((_, _, (stamp, payload))) = timers.queue.pop_due(now) {
        out.push(Due {
            stamp,
            source,
            slot: timers.ready.len() as u32,
            from: Id::NONE,
            to: Id::NONE,
            thread: Id::NONE,
            fifo: false,
        });
        timers.ready.push(Some(payload));
    }
    timers.next_due()
}

fn hand_over<T: Clone + Send + Sync + 'static>(world: &mut World, _: &mut dyn Any, slots: &[u32]) {
    let mut ready = std::mem::take(&mut world.resource_mut::<Timers<T>>().ready);
    let mut fired = world.resource_mut::<Messages<Fired<T>>>();
    // An input type turns over as it is written (see `turnover::track_input`).
    fired.update();
    for &slot in slots {
        if let Some(payload) = ready[slot as usize].take() {
            fired.write(Fired(payload));
        }
    }
    world.resource_mut::<Timers<T>>().ready = ready;
}
