//! Invariants, liveness monitors and verdicts.
//!
//! An invariant is any model system that writes a [`Violation`]; the engine's judge records
//! the first break of each distinct invariant (its tick, detail and ids) and the run goes on
//! to quiescence or a limit, so one run shows every invariant it breaks. The first break is
//! the verdict. Stopping at the first break is an explicit option ([`RunStatus::stop_at_first`]).
//! A liveness monitor is a condition that turns hot (a connect pending) and must turn cold
//! within a deadline counted from the later of when it turned hot and the heal point.

use crate::engine::ids::{Id, Names};
use crate::engine::state::Engine;
use crate::engine::trace::{Event, EventKind, Trace};
use bevy_ecs::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A broken invariant, written by a model's check system.
#[derive(Message, Clone, Debug)]
pub struct Violation {
    /// The invariant's name.
    pub invariant: &'static str,
    /// What exactly went wrong.
    pub detail: String,
    /// The ids involved.
    pub ids: Vec<Id>,
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Verdict {
    /// Quiescence with every invariant and monitor satisfied.
    Pass,
    /// An invariant broke.
    Violation {
        /// Which.
        invariant: String,
        /// On which tick.
        tick: u64,
        /// What happened.
        detail: String,
        /// The ids involved.
        ids: Vec<String>,
    },
    /// A liveness monitor stayed hot past its deadline (or at quiescence).
    Liveness {
        /// Which monitor.
        monitor: String,
        /// Since which tick it was hot.
        since: u64,
        /// The tick it was judged.
        tick: u64,
        /// The ids it watches.
        ids: Vec<String>,
    },
    /// A limit stopped the run before it settled.
    Halted {
        /// `max_ticks` or `max_messages`.
        limit: String,
    },
    /// A strict replay found the run asking for something the tape does not hold.
    Diverged {
        /// Where and how.
        detail: String,
    },
}

impl Verdict {
    /// Whether the run passed.
    pub fn is_pass(&self) -> bool {
        matches!(self, Verdict::Pass)
    }

    /// The invariant or monitor that failed, or the limit.
    pub fn failed_check(&self) -> Option<&str> {
        match self {
            Verdict::Pass => None,
            Verdict::Violation { invariant, .. } => Some(invariant),
            Verdict::Liveness { monitor, .. } => Some(monitor),
            Verdict::Halted { limit } => Some(limit),
            Verdict::Diverged { .. } => Some("diverged"),
        }
    }

    /// Whether this is a broken invariant or monitor (not a pass, a limit or a divergence).
    pub fn is_break(&self) -> bool {
        matches!(self, Verdict::Violation { .. } | Verdict::Liveness { .. })
    }

    /// One line for humans.
    pub fn summary(&self) -> String {
        match self {
            Verdict::Pass => "pass".into(),
            Verdict::Violation { invariant, tick, detail, .. } => {
                format!("violates {invariant} at tick {tick}: {detail}")
            }
            Verdict::Liveness { monitor, since, tick, ids } => {
                format!("liveness {monitor}: {} hot since tick {since}, judged at tick {tick}", ids.join(", "))
            }
            Verdict::Halted { limit } => format!("halted at {limit}"),
            Verdict::Diverged { detail } => detail.clone(),
        }
    }
}

/// What the current run has broken so far.
#[derive(Default, Debug)]
pub struct RunStatus {
    /// The first break of each distinct invariant or monitor, in the order they broke
    /// (each a [`Verdict::Violation`] or [`Verdict::Liveness`]).
    pub broken: Vec<Verdict>,
    /// Stop the run after the tick of its first break (set per simulation, kept across runs).
    pub stop_at_first: bool,
    /// A limit reached during the step (a model's or the engine's): the run ends with
    /// [`Verdict::Halted`] naming it, after the step.
    pub halt: Option<&'static str>,
}

impl RunStatus {
    /// Whether the run should stop now.
    pub fn stop(&self) -> bool {
        self.stop_at_first && !self.broken.is_empty() || self.halt.is_some()
    }

    /// End the run at the end of this step with `Halted { limit }` (the first limit asked for wins).
    pub fn halt(&mut self, limit: &'static str) {
        self.halt.get_or_insert(limit);
    }

    /// Whether `check` has broken already.
    pub fn has(&self, check: &str) -> bool {
        self.broken.iter().any(|v| v.failed_check() == Some(check))
    }

    /// Forget the previous run's breaks and limits.
    pub fn reset(&mut self) {
        self.broken.clear();
        self.halt = None;
    }
}

#[derive(Debug, Clone, Copy)]
struct Hot {
    since: u64,
    /// Its monitor's deadline, kept here so that judging every step looks nothing up.
    deadline: u64,
}

/// Liveness monitors: declare each with its deadline, then report hot/cold every tick.
#[derive(Default, Debug)]
pub struct Monitors {
    deadlines: BTreeMap<&'static str, u64>,
    hot: BTreeMap<(&'static str, Id), Hot>,
    /// Monitors judged broken this run (a monitor breaks once): they need no more judging.
    broken: Vec<&'static str>,
    /// Whether a hot condition not broken yet may be overdue on the current step: shared
    /// with judge's run condition ([`judge_needed`]), which reads it on every step without a
    /// look-up of the engine. The run loop sets it before each step
    /// ([`refresh_overdue`]); a condition that turns hot with no deadline, or a deadline
    /// declared during a run, sets it during the step. It may say yes when nothing is
    /// overdue (judge then finds nothing), never no when something is.
    overdue: Arc<AtomicBool>,
}

impl Monitors {
    /// Declare `monitor` with a deadline in ticks (counted from max(hot since, heal_at)).
    pub fn declare(&mut self, monitor: &'static str, deadline: u64) {
        self.deadlines.insert(monitor, deadline);
        for (_, hot) in self.hot.iter_mut().filter(|((m, _), _)| *m == monitor) {
            hot.deadline = deadline;
            self.overdue.store(true, Ordering::Relaxed);
        }
    }

    /// Report whether `monitor` is hot for `key` at `now`.
    pub fn set(&mut self, monitor: &'static str, key: Id, hot: bool, now: u64) {
        if hot {
            if let std::collections::btree_map::Entry::Vacant(e) = self.hot.entry((monitor, key)) {
                let deadline = self.deadlines.get(monitor).copied().unwrap_or(UNDECLARED);
                e.insert(Hot { since: now, deadline });
                // Due now at the latest only with no deadline (after the heal point).
                if deadline == 0 {
                    self.overdue.store(true, Ordering::Relaxed);
                }
            }
        } else {
            self.hot.remove(&(monitor, key));
        }
    }

    /// Forget every hot condition (start of a run); declarations stay.
    pub fn reset(&mut self) {
        self.hot.clear();
        self.broken.clear();
        self.overdue.store(false, Ordering::Relaxed);
    }

    /// Each hot condition's monitor and the tick it is due by.
    fn dues(&self, heal_at: u64) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        self.hot.iter().map(move |(&(m, _), hot)| (m, hot.since.max(heal_at).saturating_add(hot.deadline)))
    }

    /// Whether anything is hot.
    pub fn any_hot(&self) -> bool {
        !self.hot.is_empty()
    }
}

/// The deadline of a monitor never declared: never, in practice.
const UNDECLARED: u64 = u64::MAX / 4;

/// Record the first break of each distinct invariant among `violations`, and trace it.
fn record_violations<'a>(
    violations: impl Iterator<Item = &'a Violation>,
    status: &mut RunStatus,
    now: u64,
    names: &Names,
    trace: &mut Trace,
) {
    for v in violations {
        if status.has(v.invariant) {
            continue;
        }
        status.broken.push(Verdict::Violation {
            invariant: v.invariant.to_owned(),
            tick: now,
            detail: v.detail.clone(),
            ids: v.ids.iter().map(|id| names.name(*id).to_owned()).collect(),
        });
        let mut e = Event::new(now, EventKind::Violation, v.ids.first().copied().unwrap_or_default(), v.invariant);
        e.detail = Some(v.detail.clone().into_boxed_str());
        trace.push(names, e);
    }
}

/// `monitor` hot for `key` since `hot.since` is recorded as a liveness break, traced with `detail`.
fn record_liveness(
    status: &mut RunStatus,
    (monitor, key): (&'static str, Id),
    hot: Hot,
    now: u64,
    names: &Names,
    trace: &mut Trace,
    detail: String,
) {
    status.broken.push(Verdict::Liveness {
        monitor: monitor.to_owned(),
        since: hot.since,
        tick: now,
        ids: vec![names.name(key).to_owned()],
    });
    let mut e = Event::new(now, EventKind::Violation, key, monitor);
    e.detail = Some(detail.into_boxed_str());
    trace.push(names, e);
}

/// Run condition of [`judge`] for `engine`'s monitors: a violation was written, or a hot
/// monitor may be overdue (see [`refresh_overdue`]). Most steps have neither, and then judge
/// is not run.
pub fn judge_needed(engine: &Engine) -> impl FnMut(MessageReader<Violation>) -> bool + Send + Sync + 'static {
    let overdue = Arc::clone(&engine.monitors.overdue);
    move |mut violations: MessageReader<Violation>| {
        // This reader only watches for new ones (judge reads them with its own).
        let new = !violations.is_empty();
        violations.clear();
        new || overdue.load(Ordering::Relaxed)
    }
}

/// Before a step: tell judge's run condition whether a hot monitor not broken yet is overdue
/// at the step's tick (a monitor judged broken is skipped by judge too: a break is recorded
/// once).
pub fn refresh_overdue(engine: &Engine) {
    let (monitors, now) = (&engine.monitors, engine.clock.now);
    let overdue = monitors.dues(engine.plan.heal_at).any(|(m, due)| due <= now && !monitors.broken.contains(&m));
    monitors.overdue.store(overdue, Ordering::Relaxed);
}

/// The earliest deadline of a hot monitor that has not broken yet and is not overdue (an
/// overdue one was judged on this step): the clock must visit it.
pub fn monitors_due(engine: &Engine) -> Option<u64> {
    if !engine.monitors.any_hot() {
        return None;
    }
    let (status, now) = (&engine.status, engine.clock.now);
    engine.monitors.dues(engine.plan.heal_at).filter(|&(m, due)| due > now && !status.has(m)).map(|(_, due)| due).min()
}

/// Judge: record this step's violations; an overdue monitor is a liveness break (the clock
/// visits each deadline: [`monitors_due`]).
pub fn judge(mut violations: MessageReader<Violation>, mut engine: ResMut<Engine>) {
    let Engine { status, monitors, plan, clock, names, trace, turnover, .. } = &mut *engine;
    // Violations were written (or a monitor is overdue): their buffers turn over.
    turnover.written(turnover.violations);
    record_violations(violations.read(), status, clock.now, names, trace);
    for (&(monitor, key), &hot) in &monitors.hot {
        if status.has(monitor) {
            continue;
        }
        let deadline = hot.deadline;
        let due = hot.since.max(plan.heal_at).saturating_add(deadline);
        if clock.now >= due {
            let detail = format!("hot since tick {}, deadline {deadline} ticks after heal", hot.since);
            record_liveness(status, (monitor, key), hot, clock.now, names, trace, detail);
            monitors.broken.push(monitor);
        }
    }
}

/// Judge at quiescence: violations from finish checks, then every monitor still hot
/// (nothing will ever cool it now), the first key of each.
pub fn judge_final(mut violations: MessageReader<Violation>, mut engine: ResMut<Engine>) {
    let Engine { status, monitors, clock, names, trace, .. } = &mut *engine;
    record_violations(violations.read(), status, clock.now, names, trace);
    for (&(monitor, key), &hot) in &monitors.hot {
        if status.has(monitor) {
            continue;
        }
        let detail = format!("still hot at quiescence, since tick {}", hot.since);
        record_liveness(status, (monitor, key), hot, clock.now, names, trace, detail);
    }
}
