//! The agenda: everything due on a tick, of every message type and every timer, handed over
//! in one order the tape chooses.
//!
//! Each wire and timer type is a *source*: it keeps its own pending items (so it can cancel
//! them and tell the horizon when it needs the clock) and stamps each with a run-wide
//! sequence number when it is sent or armed. At the start of a tick the agenda collects
//! every source's due items, sorts them by stamp (the calm order: as sent or armed), and,
//! before the heal point and unless the plan says `reorder = false`, lets the tape pick the
//! order (label `deliver.order`), keeping each FIFO link in order. Consecutive items of one source form a batch; the tick
//! runs one *step* per batch: the batch is handed over, then the model's systems react to it,
//! then the next batch. So a message of type A, a message of type B and a timer due together
//! can reach the model in any of their six orders, and a model sees them one source at a
//! time, as an event loop would.
//!
//! Systems that do per-tick work rather than react to a message (a worker taking the next
//! job, a proxy flushing its queue) run on the tick's last step: see [`last_step`].

use crate::engine::faults::FaultPlan;
use crate::engine::ids::Id;
use crate::engine::order::Picker;
use crate::engine::state::Engine;
use crate::engine::tape::{About, Tape};
use bevy_ecs::prelude::*;
use std::any::Any;

/// One item due now: which source holds it, where, and on which link.
#[derive(Clone, Copy, Debug)]
pub struct Due {
    /// Run-wide send/arm order.
    pub stamp: u64,
    /// Index of the source in the agenda.
    pub source: u16,
    /// Where the source keeps the item until it is handed over.
    pub slot: u32,
    /// Sender (for a timer: [`Id::NONE`]).
    pub from: Id,
    /// Receiver (for a timer: [`Id::NONE`]).
    pub to: Id,
    /// The thread of control it belongs to, for strategies ([`Describe::thread`]).
    ///
    /// [`Describe::thread`]: crate::engine::trace::Describe::thread
    pub thread: Id,
    /// Whether the item keeps its place behind earlier items of its link.
    pub fifo: bool,
}

/// Where a source keeps this tick's due items between collecting and handing them over, if it
/// keeps them outside its own resource: the run loop owns it ([`HandOver`]), so handing over
/// looks up neither that resource nor, for recording, the engine a second time.
pub type Ready = Box<dyn Any + Send + Sync>;
/// Move every item of a source due at `now` into its hand-over slots (in its own resource or
/// in `ready`), reporting each; return when the source is next due after that (read for a
/// source with a slot on the engine's [`crate::engine::clock::DueBoard`]).
pub type CollectFn = fn(&mut World, now: u64, source: u16, out: &mut Vec<Due>, ready: &mut dyn Any) -> Option<u64>;
/// Record in the engine (counts, trace) that the items in `slots` of `ready` are handed over,
/// just before they are.
pub type RecordFn = fn(&mut Engine, ready: &dyn Any, slots: &[u32]);
/// Hand the items in `slots` over to the model (write its messages), in that order.
pub type HandOverFn = fn(&mut World, ready: &mut dyn Any, slots: &[u32]);

/// The run loop's scratch for handing over: each source's [`Ready`] and the batch's slots.
pub struct HandOver {
    ready: Vec<Ready>,
    slots: Vec<u32>,
}

#[derive(Clone, Copy)]
struct Source {
    collect: CollectFn,
    record: Option<RecordFn>,
    hand_over: HandOverFn,
    /// Makes its [`Ready`].
    new_ready: fn() -> Ready,
    /// Its slot on the due board, if it keeps one.
    board: Option<usize>,
    /// The turnover slot of the message type its hand-over writes, if tracked.
    writes: Option<usize>,
    /// What its last collect returned.
    next: Option<u64>,
    /// Whether this tick's collect asks it.
    ask: bool,
}

/// The agenda of the current tick (a field of [`Engine`]).
#[derive(Default)]
pub struct Agenda {
    stamp: u64,
    sources: Vec<Source>,
    due: Vec<Due>,
    sorted: Vec<Due>,
    links: Vec<(Id, Id, u64)>,
    /// Each due item's thread, beside `links`.
    threads: Vec<Id>,
    picker: Picker<(Id, Id, u64)>,
    /// (source, start, end) into `sorted`.
    batches: Vec<(u16, usize, usize)>,
    next_batch: usize,
    collected_at: Option<u64>,
    step: u32,
}

impl Agenda {
    /// Register a source, with its slot on the due board if it keeps one and the turnover
    /// slot of the message type its hand-over writes if that is tracked; its index.
    /// `record`, if given, runs just before each hand-over with the engine; `new_ready` makes
    /// the source's [`Ready`] (see [`Agenda::hand_over_scratch`]).
    #[allow(clippy::too_many_arguments)]
    pub fn add_source(
        &mut self,
        collect: CollectFn,
        record: Option<RecordFn>,
        hand_over: HandOverFn,
        new_ready: fn() -> Ready,
        board: Option<usize>,
        writes: Option<usize>,
    ) -> u16 {
        self.sources.push(Source { collect, record, hand_over, new_ready, board, writes, next: None, ask: false });
        (self.sources.len() - 1) as u16
    }

    /// The run loop's scratch for [`deliver`], with a [`Ready`] for every source added.
    pub fn hand_over_scratch(&self) -> HandOver {
        HandOver { ready: self.sources.iter().map(|s| (s.new_ready)()).collect(), slots: Vec::new() }
    }

    /// The next send/arm stamp.
    pub fn stamp(&mut self) -> u64 {
        self.stamp += 1;
        self.stamp
    }

    /// `n` consecutive stamps; the first.
    pub fn stamps(&mut self, n: u64) -> u64 {
        let first = self.stamp + 1;
        self.stamp += n;
        first
    }

    /// Whether the step that just ran handed over the tick's last batch (or there was none).
    pub fn is_last_step(&self) -> bool {
        self.next_batch >= self.batches.len()
    }

    /// Steps run so far in the current tick (1 on its first step).
    pub fn step(&self) -> u32 {
        self.step
    }

    /// Forget everything of the previous run.
    pub fn reset(&mut self) {
        self.stamp = 0;
        self.due.clear();
        self.sorted.clear();
        self.batches.clear();
        self.next_batch = 0;
        self.collected_at = None;
        self.step = 0;
    }
}

/// Run condition: the tick's last step, after every batch was handed over. Per-tick work
/// that is not a reaction to a message runs here, once per tick.
pub fn last_step(engine: Res<Engine>) -> bool {
    engine.agenda.is_last_step()
}

/// At the start of every step, after the scripts acted and before the tick schedule (the run
/// loop calls it: a system would cost the executor's bookkeeping on every step): on a tick's
/// first step collect and order what is due; on every step hand over the next batch.
/// `scratch` is the caller's, from [`Agenda::hand_over_scratch`].
pub fn deliver(world: &mut World, scratch: &mut HandOver) {
    let mut engine = world.resource_mut::<Engine>();
    let now = engine.clock.now;
    if engine.agenda.collected_at != Some(now) {
        let Engine { agenda, due: board, .. } = &mut *engine;
        agenda.collected_at = Some(now);
        agenda.step = 0;
        agenda.due.clear();
        // A source whose slot on the due board says nothing is due now is not asked (the
        // board is exact when the step starts).
        let mut asked = false;
        for s in &mut agenda.sources {
            s.ask = s.board.is_none_or(|slot| board.get(slot).is_some_and(|due| due <= now));
            asked |= s.ask;
        }
        if asked {
            // The sources collect with the whole world: only the two vectors they need leave
            // the engine meanwhile (moving the whole agenda out and back cost a memcpy per step).
            let (mut sources, mut due) = (std::mem::take(&mut agenda.sources), std::mem::take(&mut agenda.due));
            for (i, source) in sources.iter_mut().enumerate().filter(|(_, s)| s.ask) {
                let next = (source.collect)(world, now, i as u16, &mut due, &mut *scratch.ready[i]);
                source.next = next;
            }
            engine = world.resource_mut::<Engine>();
            let Engine { agenda, due: board, .. } = &mut *engine;
            for s in sources.iter().filter(|s| s.ask) {
                if let Some(slot) = s.board {
                    board.set(slot, s.next);
                }
            }
            (agenda.sources, agenda.due) = (sources, due);
        }
        let Engine { agenda, plan, tape, .. } = &mut *engine;
        agenda.order(plan, tape, now);
    }
    let Engine { agenda, turnover, .. } = &mut *engine;
    agenda.step += 1;
    let Some(&(source, start, end)) = agenda.batches.get(agenda.next_batch) else { return };
    agenda.next_batch += 1;
    let Source { record, hand_over, writes, .. } = agenda.sources[source as usize];
    // Marked now, before the hand-over writes them: the same step either way.
    if let Some(slot) = writes {
        turnover.written(slot);
    }
    let HandOver { ready, slots } = scratch;
    slots.clear();
    slots.extend(agenda.sorted[start..end].iter().map(|d| d.slot));
    let ready = &mut *ready[source as usize];
    if let Some(record) = record {
        record(&mut engine, ready, slots);
    }
    hand_over(world, ready, slots);
}

impl Agenda {
    /// Order the collected items (calm: as sent or armed; else as the tape picks, each FIFO
    /// link kept in order) and cut them into batches of one source each.
    fn order(&mut self, plan: &FaultPlan, tape: &mut Tape, now: u64) {
        self.sorted.clear();
        self.batches.clear();
        self.next_batch = 0;
        if self.due.is_empty() {
            return;
        }
        self.due.sort_unstable_by_key(|d| d.stamp);
        if self.due.len() > 1 && plan.reorder && plan.active(now) {
            // A timer is on a link of its own: nothing keeps it behind another item.
            self.links.clear();
            self.links.extend(self.due.iter().map(|d| (d.from, d.to, if d.fifo { 0 } else { d.stamp })));
            self.threads.clear();
            self.threads.extend(self.due.iter().map(|d| d.thread));
            let (links, threads) = (&self.links, &self.threads);
            let order = self.picker.order(links, true, |k, nth| {
                tape.choose_about("deliver.order", k, About::Candidates(&|i| threads[nth(i)]))
            });
            self.sorted.extend(order.iter().map(|&i| self.due[i]));
        } else {
            self.sorted.extend_from_slice(&self.due);
        }
        let mut start = 0;
        for i in 1..=self.sorted.len() {
            if i == self.sorted.len() || self.sorted[i].source != self.sorted[start].source {
                self.batches.push((self.sorted[start].source, start, i));
                start = i;
            }
        }
    }
}
