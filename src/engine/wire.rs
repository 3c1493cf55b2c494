//! The wire: a generic in-flight queue for any message type.
//!
//! Models write [`Outbound`] messages. In the Dispatch stage each one gets its fault
//! decisions from the tape (drop, duplicate, delay within the plan's range, hold while a
//! partition cuts its link) and is queued; envelopes due now are handed over as [`Inbound`]
//! messages by the [`Agenda`], which orders them with every other message type and timer
//! due on the same tick.
//! After the heal point the wire is calm: minimum delay, nothing lost, FIFO.

use crate::engine::agenda::Due;
use crate::engine::app::SimApp;
use crate::engine::faults::LinkRules;
use crate::engine::ids::Id;
use crate::engine::queue::DueQueue;
use crate::engine::schedule::{Stage, TickSchedule, slot};
use crate::engine::state::Engine;
use crate::engine::tape::About;
use crate::engine::trace::{Describe, EventKind};
use crate::engine::turnover;
use bevy_app::{App, Plugin};
use bevy_ecs::message::Messages;
use bevy_ecs::prelude::*;
// Looked up, never iterated.
use bevy_platform::collections::HashMap;
use std::any::Any;
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
    /// Whether the wire lost it on a link whose rule has `fail` and hands it back to its
    /// sender's transport instead of delivering it (see [`LinkRules`]). Always false on links
    /// without such a rule.
    pub bounced: bool,
}

/// Envelopes in flight.
#[derive(Resource)]
pub struct InFlight<M: Payload> {
    /// `(stamp, envelope, bounced, message)` by due tick.
    queue: DueQueue<(u64, u64, bool, M)>,
    next_env: u64,
    /// Latest due tick per link, to keep links FIFO (looked up, never iterated).
    link_due: HashMap<(Id, Id), u64>,
    /// Links of lossless rules seen this run, sorted: they stay FIFO even when the plan's
    /// links do not.
    ordered: Vec<(Id, Id)>,
    /// Its slot on the engine's due board.
    board: usize,
    /// The turnover slot of `Outbound<M>`.
    outbound: usize,
    /// The plan's `fifo`, copied by dispatch (it is the same in every run) so that collecting
    /// looks up nothing else.
    fifo: bool,
    /// The [`LinkRules`], copied at each run's reset (they are the same in every run) so that
    /// dispatching looks up nothing else.
    rules: LinkRules,
}

impl<M: Payload> Default for InFlight<M> {
    fn default() -> Self {
        InFlight {
            queue: DueQueue::default(),
            next_env: 1,
            link_due: HashMap::default(),
            ordered: Vec::new(),
            board: 0,
            outbound: 0,
            fifo: true,
            rules: LinkRules::default(),
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
        self.queue.iter().map(|(_, _, _, m)| m)
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
        if app.world().contains_resource::<InFlight<M>>() {
            return;
        }
        let outbound = turnover::track::<Outbound<M>>(app);
        let inbound = turnover::track_input::<Inbound<M>>(app);
        let board = {
            let mut engine = app.world_mut().resource_mut::<Engine>();
            let board = engine.due.add();
            engine.agenda.add_source(
                collect::<M>,
                Some(record::<M>),
                hand_over::<M>,
                || Box::new(Ready::<M>(Vec::new())),
                Some(board),
                Some(inbound),
            );
            board
        };
        app.insert_resource(InFlight::<M> { board, outbound, ..InFlight::default() });
        app.world_mut().get_resource_or_init::<LinkRules>();
        app.add_reset(|w| {
            let rules = w.resource::<LinkRules>().clone();
            let mut q = w.resource_mut::<InFlight<M>>();
            q.rules = rules;
            q.queue.clear();
            q.next_env = 1;
            q.link_due.clear();
            q.ordered.clear();
        });
        let dispatch_slot = slot(app, Stage::Dispatch);
        // Most steps send nothing of a given type: then dispatch's parameters are not fetched.
        app.add_systems(TickSchedule, dispatch::<M>.run_if(on_message::<Outbound<M>>).in_set(dispatch_slot));
    }
}

fn dispatch<M: Payload>(
    mut outbound: MessageReader<Outbound<M>>,
    mut flight: ResMut<InFlight<M>>,
    mut engine: ResMut<Engine>,
) {
    let Engine { agenda, tape, plan, cuts, clock, names, trace, stats, limits, status, due: board, turnover, .. } =
        &mut *engine;
    turnover.written(flight.outbound);
    let flight = &mut *flight;
    flight.fifo = plan.fifo;
    let now = clock.now;
    let active = plan.active(now);
    for Outbound(msg) in outbound.read() {
        if stats.messages >= limits.max_messages {
            // Enforced as messages are sent, not between ticks: a tick that floods the wire
            // ends the run here, whatever it tried to send after the limit.
            status.halt("max_messages");
            break;
        }
        stats.messages += 1;
        let env = flight.next_env;
        flight.next_env += 1;
        let (from, to, thread) = (msg.actor(), msg.target(), msg.thread());
        let (label, args) = (msg.label(), msg.args());
        let rule = flight.rules.find(from, to);
        if let Some(rule) = rule
            && active
            && tape.chance("wire.fail", rule.fail)
        {
            // Lost, and the sender's transport notices: handed back when it would have arrived.
            stats.dropped += 1;
            let delay = tape.range_about("wire.delay", rule.delay.0, rule.delay.1, About::Sender(thread));
            let due = now + delay.max(1);
            trace.record_envelope(names, now, EventKind::Drop, from, label, to, &args, env, due);
            flight.queue.push(due, (agenda.stamp(), env, true, msg.clone()));
            continue;
        }
        let lossy = active && !rule.is_some_and(|r| r.lossless);
        if lossy && tape.chance("wire.drop", plan.drop) {
            stats.dropped += 1;
            trace.record_envelope(names, now, EventKind::Drop, from, label, to, &args, env, 0);
            continue;
        }
        let copies = if lossy && tape.chance("wire.duplicate", plan.duplicate) { 2 } else { 1 };
        for copy in 0..copies {
            let env = if copy == 0 {
                env
            } else {
                stats.duplicated += 1;
                flight.next_env += 1;
                flight.next_env - 1
            };
            let delay = if let Some(rule) = rule {
                tape.range_about("wire.delay", rule.delay.0, rule.delay.1, About::Sender(thread))
            } else if active {
                tape.range_about("wire.delay", plan.delay.0, plan.delay.1, About::Sender(thread))
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
            let lossless = rule.is_some_and(|r| r.lossless);
            if lossless && let Err(at) = flight.ordered.binary_search(&(from, to)) {
                flight.ordered.insert(at, (from, to));
            }
            if plan.fifo || lossless {
                let last = flight.link_due.entry((from, to)).or_insert(0);
                due = due.max(*last);
                *last = due;
            }
            trace.record_envelope(names, now, kind, from, label, to, &args, env, due);
            flight.queue.push(due, (agenda.stamp(), env, false, msg.clone()));
        }
    }
    board.set(flight.board, flight.queue.next_due());
}

/// This tick's due envelopes of one message type, `(envelope, bounced, message)`, from
/// collecting until the agenda hands them over (kept by the run loop: see
/// [`crate::engine::agenda::Ready`]).
struct Ready<M>(Vec<Option<(u64, bool, M)>>);

/// The wire's own type of [`crate::engine::agenda::Ready`].
fn ready<M: Payload>(ready: &mut dyn Any) -> &mut Vec<Option<(u64, bool, M)>> {
    &mut ready.downcast_mut::<Ready<M>>().expect("the agenda hands a wire its own ready list").0
}

fn collect<M: Payload>(
    world: &mut World,
    now: u64,
    source: u16,
    out: &mut Vec<Due>,
    ready: &mut dyn Any,
) -> Option<u64> {
    let ready = self::ready::<M>(ready);
    let mut flight = world.resource_mut::<InFlight<M>>();
    let flight = &mut *flight;
    let fifo = flight.fifo;
    ready.clear();
    while let Some((_, _, (stamp, env, bounced, msg))) = flight.queue.pop_due(now) {
        let (from, to) = (msg.actor(), msg.target());
        // An in-process channel keeps its order whatever the plan says about network links.
        let fifo = fifo || flight.ordered.binary_search(&(from, to)).is_ok();
        out.push(Due { stamp, source, slot: ready.len() as u32, from, to, thread: msg.thread(), fifo });
        ready.push(Some((env, bounced, msg)));
    }
    flight.queue.next_due()
}

/// Count and trace the deliveries of a hand-over (a bounced envelope goes back to its sender
/// and is neither), in the engine look-up the agenda already holds.
fn record<M: Payload>(engine: &mut Engine, ready: &dyn Any, slots: &[u32]) {
    let ready = &ready.downcast_ref::<Ready<M>>().expect("the agenda hands a wire its own ready list").0;
    let Engine { clock, names, trace, stats, .. } = engine;
    let now = clock.now;
    for &slot in slots {
        let Some((env, bounced, msg)) = &ready[slot as usize] else { continue };
        if !bounced {
            stats.delivered += 1;
            if trace.on() {
                let (to, label, from, args) = (msg.target(), msg.label(), msg.actor(), msg.args());
                trace.record_envelope(names, now, EventKind::Deliver, to, label, from, &args, *env, 0);
            }
        }
    }
}

/// Write the envelopes in `slots` as `Inbound` messages, each moved once.
fn hand_over<M: Payload>(world: &mut World, ready: &mut dyn Any, slots: &[u32]) {
    let ready = self::ready::<M>(ready);
    let mut inbound = world.resource_mut::<Messages<Inbound<M>>>();
    // An input type turns over as it is written (see `turnover::track_input`).
    inbound.update();
    let due = slots.iter().filter_map(|&slot| ready[slot as usize].take());
    inbound.write_batch(due.map(|(env, bounced, msg)| Inbound { msg, env, bounced }));
}
