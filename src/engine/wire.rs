//! The wire: a generic in-flight queue for any message type.
//!
//! Models write [`Outbound`] messages. In the Dispatch stage each one gets its fault
//! decisions from the tape (drop, duplicate, delay within the plan's range, hold while a
//! partition cuts its link) and is queued; in the Deliver stage envelopes due now are
//! handed over as [`Inbound`] messages, their order among the same tick chosen by the tape.
//! After the heal point the wire is calm: minimum delay, nothing lost, FIFO.

use crate::engine::clock::{Clock, Horizon};
use crate::engine::faults::{Cuts, FaultPlan};
use crate::engine::ids::Id;
use crate::engine::ids::Names;
use crate::engine::order::Picker;
use crate::engine::queue::DueQueue;
use crate::engine::schedule::{SimApp, Stage, TickSchedule, slot};
use crate::engine::stats::Stats;
use crate::engine::tape::{About, Tape};
use crate::engine::trace::{Describe, Event, EventKind, Trace};
use bevy_app::{App, Plugin};
use bevy_ecs::prelude::*;
use std::collections::HashMap;
use std::marker::PhantomData;

/// What a message type needs to travel the wire.
pub trait Payload: Describe + Clone + Send + Sync + 'static {}
impl<T: Describe + Clone + Send + Sync + 'static> Payload for T {}

/// A message a model puts on the wire; `actor()` is the sender, `target()` the receiver.
#[derive(Message, Clone, Debug)]
pub struct Outbound<M: Payload>(pub M);

/// A message the wire delivers.
#[derive(Message, Clone, Debug)]
pub struct Inbound<M: Payload> {
    /// The message.
    pub msg: M,
    /// Its envelope number (unique within the run and message type).
    pub env: u64,
}

/// Envelopes in flight.
#[derive(Resource)]
pub struct InFlight<M: Payload> {
    queue: DueQueue<(u64, M)>,
    batch: Vec<(u64, M)>,
    next_env: u64,
    /// Latest due tick per link, to keep links FIFO (looked up, never iterated).
    link_due: HashMap<(Id, Id), u64>,
    links: Vec<(Id, Id)>,
    picker: Picker<(Id, Id)>,
    ordered: Vec<Option<(u64, M)>>,
}

impl<M: Payload> Default for InFlight<M> {
    fn default() -> Self {
        InFlight {
            queue: DueQueue::default(),
            batch: Vec::new(),
            next_env: 1,
            link_due: HashMap::new(),
            links: Vec::new(),
            picker: Picker::default(),
            ordered: Vec::new(),
        }
    }
}

impl<M: Payload> InFlight<M> {
    /// Envelopes queued now.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether nothing is in flight.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// The messages in flight, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &M> {
        self.queue.iter().map(|(_, m)| m)
    }
}

/// Adds a wire for message type `M`.
pub struct WirePlugin<M>(PhantomData<M>);

impl<M> Default for WirePlugin<M> {
    fn default() -> Self {
        WirePlugin(PhantomData)
    }
}

impl<M: Payload> Plugin for WirePlugin<M> {
    fn build(&self, app: &mut App) {
        app.add_sim_message::<Outbound<M>>();
        app.add_sim_message::<Inbound<M>>();
        app.init_resource::<InFlight<M>>();
        app.add_reset(|w| {
            let mut q = w.resource_mut::<InFlight<M>>();
            q.queue.clear();
            q.batch.clear();
            q.next_env = 1;
            q.link_due.clear();
        });
        let deliver_slot = slot(app, Stage::Deliver);
        let dispatch_slot = slot(app, Stage::Dispatch);
        app.add_systems(TickSchedule, deliver::<M>.in_set(deliver_slot));
        app.add_systems(TickSchedule, dispatch::<M>.in_set(dispatch_slot));
    }
}

#[allow(clippy::too_many_arguments)]
fn dispatch<M: Payload>(
    mut outbound: MessageReader<Outbound<M>>,
    mut flight: ResMut<InFlight<M>>,
    mut tape: ResMut<Tape>,
    plan: Res<FaultPlan>,
    cuts: Res<Cuts>,
    clock: Res<Clock>,
    names: Res<Names>,
    mut trace: ResMut<Trace>,
    mut stats: ResMut<Stats>,
    mut horizon: ResMut<Horizon>,
) {
    let now = clock.now;
    let active = plan.active(now);
    for Outbound(msg) in outbound.read() {
        stats.messages += 1;
        let env = flight.next_env;
        flight.next_env += 1;
        let (from, to) = (msg.actor(), msg.target());
        let base = Event::new(now, EventKind::Send, from, msg.label()).other(to).args(msg.args());
        if active && tape.chance("wire.drop", plan.drop) {
            stats.dropped += 1;
            trace.push(&names, Event { kind: EventKind::Drop, env, ..base });
            continue;
        }
        let copies = if active && tape.chance("wire.duplicate", plan.duplicate) { 2 } else { 1 };
        for copy in 0..copies {
            let env = if copy == 0 {
                env
            } else {
                stats.duplicated += 1;
                flight.next_env += 1;
                flight.next_env - 1
            };
            let delay = if active {
                tape.range_about("wire.delay", plan.delay.0, plan.delay.1, About::Sender(from))
            } else {
                plan.delay.0
            };
            let mut due = now + delay.max(1);
            let mut kind = if copy == 0 { EventKind::Send } else { EventKind::Duplicate };
            if let Some(until) = cuts.held_until(from, to, due) {
                stats.held += 1;
                due = until;
                kind = EventKind::Hold;
            }
            if plan.fifo {
                let last = flight.link_due.entry((from, to)).or_insert(0);
                due = due.max(*last);
                *last = due;
            }
            trace.push(&names, Event { kind, env, due, ..base.clone() });
            flight.queue.push(due, (env, msg.clone()));
        }
    }
    // Nothing enters the queue after Dispatch: its earliest due tick is final for this tick.
    horizon.at_opt(flight.queue.next_due());
}

#[allow(clippy::too_many_arguments)]
fn deliver<M: Payload>(
    mut flight: ResMut<InFlight<M>>,
    mut inbound: MessageWriter<Inbound<M>>,
    mut tape: ResMut<Tape>,
    plan: Res<FaultPlan>,
    clock: Res<Clock>,
    names: Res<Names>,
    mut trace: ResMut<Trace>,
    mut stats: ResMut<Stats>,
) {
    let now = clock.now;
    let flight = &mut *flight;
    flight.batch.clear();
    while let Some((_, _, item)) = flight.queue.pop_due(now) {
        flight.batch.push(item);
    }
    let n = flight.batch.len();
    if n > 1 && plan.reorder && plan.active(now) {
        flight.links.clear();
        flight.links.extend(flight.batch.iter().map(|(_, m)| (m.actor(), m.target())));
        let links = &flight.links;
        let order = flight.picker.order(links, plan.fifo, |k, nth| {
            tape.choose_about("wire.order", k, About::Candidates(&|i| links[nth(i)].0))
        });
        flight.ordered.clear();
        flight.ordered.extend(flight.batch.drain(..).map(Some));
        for &i in order {
            if let Some(item) = flight.ordered[i].take() {
                flight.batch.push(item);
            }
        }
    }
    for (env, msg) in flight.batch.drain(..) {
        stats.delivered += 1;
        if trace.on() {
            let e = Event::new(now, EventKind::Deliver, msg.target(), msg.label()).other(msg.actor()).args(msg.args());
            trace.push(&names, Event { env, ..e });
        }
        inbound.write(Inbound { msg, env });
    }
}
