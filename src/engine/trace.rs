//! The trace: what happened on each tick, keyed by stable ids.
//!
//! Events are small fixed-size records (no formatting, no allocation) so that a run can
//! keep a trace hash at almost no cost; the full list is kept only when asked, and a
//! failure found in a sweep is simply run again with the full trace on.

use crate::engine::hash::{SEED, mix, mix_bytes};
use crate::engine::ids::{Id, Names};
use serde::Serialize;
use std::fmt::Write as _;

/// What kind of thing happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A scripted step began.
    Act,
    /// An envelope entered the wire.
    Send,
    /// The wire lost an envelope.
    Drop,
    /// The wire copied an envelope.
    Duplicate,
    /// A cut link held an envelope.
    Hold,
    /// An envelope arrived.
    Deliver,
    /// A model call (a callback fired, a method ran).
    Call,
    /// A state changed.
    State,
    /// Something worth noting that is none of the above.
    Note,
    /// An invariant broke.
    Violation,
}

impl EventKind {
    fn code(self) -> u8 {
        self as u8
    }

    /// The name used in JSONL and timelines.
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Act => "act",
            EventKind::Send => "send",
            EventKind::Drop => "drop",
            EventKind::Duplicate => "duplicate",
            EventKind::Hold => "hold",
            EventKind::Deliver => "deliver",
            EventKind::Call => "call",
            EventKind::State => "state",
            EventKind::Note => "note",
            EventKind::Violation => "violation",
        }
    }

    /// Whether this is a wire fault.
    pub fn is_fault(self) -> bool {
        matches!(self, EventKind::Drop | EventKind::Duplicate | EventKind::Hold)
    }
}

/// An argument value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Val {
    /// No value (an unused slot).
    #[default]
    None,
    /// A number.
    U(u64),
    /// A stable id.
    Id(Id),
    /// A word.
    S(&'static str),
    /// A yes/no.
    B(bool),
}

/// Up to four named arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Args(pub [(&'static str, Val); 4]);

impl Args {
    /// No arguments.
    pub const EMPTY: Args = Args([("", Val::None); 4]);

    /// Add an argument (ignored beyond four).
    pub fn with(mut self, key: &'static str, val: Val) -> Self {
        if let Some(slot) = self.0.iter_mut().find(|(k, _)| k.is_empty()) {
            *slot = (key, val);
        }
        self
    }

    /// Add a number.
    pub fn u(self, key: &'static str, v: u64) -> Self {
        self.with(key, Val::U(v))
    }

    /// Add an id.
    pub fn id(self, key: &'static str, v: Id) -> Self {
        self.with(key, Val::Id(v))
    }

    /// Add a word.
    pub fn s(self, key: &'static str, v: &'static str) -> Self {
        self.with(key, Val::S(v))
    }

    /// Add a yes/no.
    pub fn b(self, key: &'static str, v: bool) -> Self {
        self.with(key, Val::B(v))
    }

    /// The arguments that are set.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, Val)> + '_ {
        self.0.iter().copied().filter(|(k, _)| !k.is_empty())
    }
}

/// How a message or action describes itself in a trace.
pub trait Describe {
    /// A short name ("offer", "ice_candidate", "connect").
    fn label(&self) -> &'static str;
    /// Who it comes from (for actions: who acts).
    fn actor(&self) -> Id {
        Id::NONE
    }
    /// Who it goes to.
    fn target(&self) -> Id {
        Id::NONE
    }
    /// The logical thread of control it belongs to, which scheduling strategies order by
    /// (PCT gives each thread a priority): by default its sender. A reply a service sends
    /// for a call belongs to the call's caller, so two callers' replies can overtake each
    /// other as two threads can; a reply that claimed the service as its thread could not.
    fn thread(&self) -> Id {
        self.actor()
    }
    /// Its fields.
    fn args(&self) -> Args {
        Args::EMPTY
    }
}

/// One thing that happened.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// When.
    pub tick: u64,
    /// What kind.
    pub kind: EventKind,
    /// Who did it, or where it happened.
    pub actor: Id,
    /// The other party (receiver of a send, sender of a delivery), if any.
    pub other: Id,
    /// A short name of what happened.
    pub what: &'static str,
    /// Envelope number for wire events (0: none).
    pub env: u64,
    /// For sends and holds: the tick the envelope is due.
    pub due: u64,
    /// Named arguments.
    pub args: Args,
    /// Free text, for violations only.
    pub detail: Option<Box<str>>,
}

impl Event {
    /// An event of `kind` by `actor` named `what`, on `tick`.
    pub fn new(tick: u64, kind: EventKind, actor: Id, what: &'static str) -> Self {
        Event { tick, kind, actor, other: Id::NONE, what, env: 0, due: 0, args: Args::EMPTY, detail: None }
    }

    /// Set the other party.
    pub fn other(mut self, other: Id) -> Self {
        self.other = other;
        self
    }

    /// Set the arguments.
    pub fn args(mut self, args: Args) -> Self {
        self.args = args;
        self
    }
}

/// How much of the trace a run keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TraceLevel {
    /// Nothing, not even the hash (sweeps that only need verdicts).
    Off,
    /// The hash only.
    #[default]
    Hash,
    /// The hash and every event.
    Full,
}

/// The trace of the current run.
#[derive(Debug, Default)]
pub struct Trace {
    level: TraceLevel,
    hash: u64,
    events: Vec<Event>,
    /// The tick of the last event and how many events it has had.
    tick: u64,
    in_tick: u64,
    /// Set when a tick went past [`MAX_EVENTS_PER_TICK`]: the run halts after the step.
    flooded: bool,
}

/// The most events one tick may record (counted at the `Hash` and `Full` levels every
/// command uses, so a sweep and its replay halt alike; `Off` is for benchmarks). A model or scenario that floods
/// one tick (a burst of a billion, a send loop) halts with `Halted { limit:
/// "max_events_per_tick" }` instead of growing memory until the process aborts; events past
/// the cap are not recorded.
pub const MAX_EVENTS_PER_TICK: u64 = 100_000;

/// An event's head: tick, kind, actor, other, what, envelope, due.
type Head = (u64, EventKind, Id, Id, &'static str, u64, u64);

/// Fold one event into the hash `h`: every field, ids by their name's word (see
/// [`crate::engine::hash`]).
fn hash_event(h: u64, names: &Names, head: Head, args: &Args, detail: Option<&str>) -> u64 {
    let (tick, kind, actor, other, what, env, due) = head;
    let mut h = mix(h, tick);
    h = mix(h, u64::from(kind.code()));
    h = mix(h, names.word(actor));
    h = mix(h, names.word(other));
    h = mix_bytes(h, what.as_bytes());
    h = mix(mix(h, env), due);
    for (k, v) in args.iter() {
        h = mix_bytes(h, k.as_bytes());
        h = match v {
            Val::None => mix(h, 0),
            Val::U(n) => mix(mix(h, 1), n),
            Val::Id(id) => mix(mix(h, 2), names.word(id)),
            Val::S(s) => mix_bytes(mix(h, 3), s.as_bytes()),
            Val::B(b) => mix(h, 4 | u64::from(b) << 8),
        };
    }
    match detail {
        Some(d) => mix_bytes(mix(h, 1), d.as_bytes()),
        None => mix(h, 0),
    }
}

impl Trace {
    /// Start a new run's trace at `level`.
    pub fn reset(&mut self, level: TraceLevel) {
        self.level = level;
        self.hash = SEED;
        self.events.clear();
        (self.tick, self.in_tick, self.flooded) = (0, 0, false);
    }

    /// Whether a tick of this run went past [`MAX_EVENTS_PER_TICK`].
    pub fn flooded(&self) -> bool {
        self.flooded
    }

    /// The level in force.
    pub fn level(&self) -> TraceLevel {
        self.level
    }

    /// Whether events are recorded at all (callers may skip building events when not).
    pub fn on(&self) -> bool {
        self.level != TraceLevel::Off
    }

    /// Record that `actor` did `what` at `tick` (to `other`, with `args`): the one way a
    /// model traces an event. Nothing is built when the trace is off, and no [`Event`] at
    /// the `Hash` level.
    #[allow(clippy::too_many_arguments)]
    pub fn record(
        &mut self,
        names: &Names,
        tick: u64,
        kind: EventKind,
        actor: Id,
        what: &'static str,
        other: Id,
        args: Args,
    ) {
        self.record_envelope(names, tick, kind, actor, what, other, &args, 0, 0);
    }

    /// [`Trace::record`] for a wire event: with the envelope number and, for a send, the
    /// tick it is due.
    #[allow(clippy::too_many_arguments)]
    pub fn record_envelope(
        &mut self,
        names: &Names,
        tick: u64,
        kind: EventKind,
        actor: Id,
        what: &'static str,
        other: Id,
        args: &Args,
        env: u64,
        due: u64,
    ) {
        if !self.admit(tick) {
            return;
        }
        self.hash = hash_event(self.hash, names, (tick, kind, actor, other, what, env, due), args, None);
        if self.level == TraceLevel::Full {
            let e = Event { tick, kind, actor, other, what, env, due, args: *args, detail: None };
            self.events.push(e);
        }
    }

    /// Record `event`. The hash covers every field by name, never by index, so it is
    /// stable across runs and machines.
    pub fn push(&mut self, names: &Names, event: Event) {
        if !self.admit(event.tick) {
            return;
        }
        let e = &event;
        let head = (e.tick, e.kind, e.actor, e.other, e.what, e.env, e.due);
        self.hash = hash_event(self.hash, names, head, &e.args, e.detail.as_deref());
        if self.level == TraceLevel::Full {
            self.events.push(event);
        }
    }

    /// Whether an event at `tick` is recorded: the trace is on and the tick is under the
    /// cap (past it, the run is flagged as flooded).
    fn admit(&mut self, tick: u64) -> bool {
        if self.level == TraceLevel::Off {
            return false;
        }
        if tick != self.tick {
            (self.tick, self.in_tick) = (tick, 0);
        }
        self.in_tick += 1;
        if self.in_tick > MAX_EVENTS_PER_TICK {
            self.flooded = true;
            return false;
        }
        true
    }

    /// The trace hash so far.
    pub fn hash(&self) -> u64 {
        self.hash
    }

    /// The recorded events (empty below [`TraceLevel::Full`]).
    pub fn events(&self) -> &[Event] {
        &self.events
    }
}

/// One event as a canonical JSON object (keys in a fixed order, ids by name).
pub fn event_json(e: &Event, names: &Names) -> String {
    let mut s = String::with_capacity(96);
    let _ =
        write!(s, "{{\"tick\":{},\"kind\":\"{}\",\"actor\":{}", e.tick, e.kind.name(), json_str(names.name(e.actor)));
    if !e.other.is_none() {
        let _ = write!(s, ",\"other\":{}", json_str(names.name(e.other)));
    }
    let _ = write!(s, ",\"what\":{}", json_str(e.what));
    if e.env != 0 {
        let _ = write!(s, ",\"env\":{}", e.env);
    }
    if e.kind == EventKind::Send || e.kind == EventKind::Hold {
        let _ = write!(s, ",\"due\":{}", e.due);
    }
    let mut args = e.args.iter().peekable();
    if args.peek().is_some() {
        s.push_str(",\"args\":{");
        for (i, (k, v)) in args.enumerate() {
            if i > 0 {
                s.push(',');
            }
            let _ = write!(s, "{}:{}", json_str(k), val_json(v, names));
        }
        s.push('}');
    }
    if let Some(d) = &e.detail {
        let _ = write!(s, ",\"detail\":{}", json_str(d));
    }
    s.push('}');
    s
}

/// An argument value as text (for timelines).
pub fn val_text(v: Val, names: &Names) -> String {
    match v {
        Val::None => String::new(),
        Val::U(n) => n.to_string(),
        Val::Id(id) => names.name(id).to_owned(),
        Val::S(s) => s.to_owned(),
        Val::B(b) => b.to_string(),
    }
}

fn val_json(v: Val, names: &Names) -> String {
    match v {
        Val::None => "null".into(),
        Val::U(n) => n.to_string(),
        Val::Id(id) => json_str(names.name(id)),
        Val::S(s) => json_str(s),
        Val::B(b) => b.to_string(),
    }
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}
