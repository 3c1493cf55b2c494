//! The scenario steps the SSE model accepts, parsed into actions.

use crate::engine::ids::{Id, Names};
use crate::engine::model::StepDoc;
use crate::engine::trace::{Args, Describe};
use crate::scenario::{At, Scenario, ScenarioError, Step};
use std::collections::BTreeSet;

/// The step kinds, for `Model::steps`.
pub const STEPS: &[StepDoc] = &[
    StepDoc {
        name: "start_session",
        fields: &["session"],
        about: "create the session: its server, its tracker, its consumer, and the first stream (no Last-Event-ID)",
    },
    StepDoc {
        name: "burst",
        fields: &["session", "count"],
        about: "the session's server emits `count` new events, `[sse] rate` per tick",
    },
    StepDoc {
        name: "disconnect",
        fields: &["session"],
        about: "the stream breaks; events not yet read by the proxy are lost with it",
    },
    StepDoc {
        name: "reconnect",
        fields: &["session", "overlap"],
        about: "open a new stream with Last-Event-ID: the tracker's id, or the stored one after a restart; with `overlap = true` the old stream's task goes on recording what it has read, through the same tracker",
    },
    StepDoc {
        name: "restart",
        fields: &["session"],
        about: "the session's proxy restarts: the stream breaks, the tracker's window and last_event_id are lost (the shared channel, worker and store carry on)",
    },
    StepDoc { name: "stall_store", fields: &["ticks"], about: "the store answers no write for `ticks` ticks" },
    StepDoc {
        name: "close_worker",
        fields: &[],
        about: "the persistence worker stops and drops its receiver: the channel is closed",
    },
];

/// A step as written, before names are interned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepSpec {
    /// `start_session`.
    Start(String),
    /// `burst`.
    Burst(String, u64),
    /// `disconnect`.
    Disconnect(String),
    /// `reconnect` (and whether the old stream's task overlaps the new one).
    Reconnect(String, bool),
    /// `restart`.
    Restart(String),
    /// `stall_store`.
    StallStore(u64),
    /// `close_worker`.
    CloseWorker,
}

impl StepSpec {
    /// The session the step names, if any.
    pub fn session(&self) -> Option<&str> {
        match self {
            StepSpec::Start(s)
            | StepSpec::Burst(s, _)
            | StepSpec::Disconnect(s)
            | StepSpec::Reconnect(s, _)
            | StepSpec::Restart(s) => Some(s),
            StepSpec::StallStore(_) | StepSpec::CloseWorker => None,
        }
    }
}

fn session(src: &crate::scenario::Source, step: &Step) -> Result<String, ScenarioError> {
    let name = step.str(src, "session")?;
    let span = step.table.get("session").map(|v| v.span.clone()).unwrap_or(step.table.span.clone());
    if name.is_empty() || name.contains(':') || name.chars().any(char::is_whitespace) {
        return Err(src.error(span, format!("session name `{name}` must be a non-empty word without `:` or spaces")));
    }
    Ok(name)
}

/// The most events one `burst` step may send: each is traced and tracked.
pub const MAX_BURST: u64 = 100_000;

fn positive(src: &crate::scenario::Source, step: &Step, field: &str) -> Result<u64, ScenarioError> {
    let n = step.uint(src, field)?;
    let span = || step.table.get(field).map(|v| v.span.clone()).unwrap_or(step.table.span.clone());
    if n == 0 {
        return Err(src.error(span(), format!("`{field}` must be at least 1")));
    }
    if n > MAX_BURST {
        return Err(src.error(span(), format!("`{field}` = {n} is too large; expected at most {MAX_BURST}")));
    }
    Ok(n)
}

/// Parse every step of `scenario`, checking fields and that each session is started once.
pub fn parse_steps(scenario: &Scenario) -> Result<Vec<(At, StepSpec)>, ScenarioError> {
    let src = &scenario.source;
    let mut out = Vec::with_capacity(scenario.steps.len());
    let mut started = BTreeSet::new();
    for step in &scenario.steps {
        let spec = match step.kind.as_str() {
            "start_session" => {
                step.deny_unknown(src, &["session"])?;
                let s = session(src, step)?;
                if !started.insert(s.clone()) {
                    let span = step.table.get("session").map(|v| v.span.clone()).unwrap_or(step.table.span.clone());
                    return Err(src.error(span, format!("session `{s}` is started twice; start each session once")));
                }
                StepSpec::Start(s)
            }
            "burst" => {
                step.deny_unknown(src, &["session", "count"])?;
                StepSpec::Burst(session(src, step)?, positive(src, step, "count")?)
            }
            "disconnect" => {
                step.deny_unknown(src, &["session"])?;
                StepSpec::Disconnect(session(src, step)?)
            }
            "reconnect" => {
                step.deny_unknown(src, &["session", "overlap"])?;
                let overlap = match step.table.get("overlap") {
                    Some(v) => v.bool(src, "overlap")?,
                    None => false,
                };
                StepSpec::Reconnect(session(src, step)?, overlap)
            }
            "restart" => {
                step.deny_unknown(src, &["session"])?;
                StepSpec::Restart(session(src, step)?)
            }
            "stall_store" => {
                step.deny_unknown(src, &["ticks"])?;
                StepSpec::StallStore(positive(src, step, "ticks")?)
            }
            "close_worker" => {
                step.deny_unknown(src, &[])?;
                StepSpec::CloseWorker
            }
            other => {
                let names: Vec<&str> = STEPS.iter().map(|s| s.name).collect();
                return Err(src.error(
                    step.kind_span.clone(),
                    format!("unknown step `{other}` for model `sse`; expected one of: {}", names.join(", ")),
                ));
            }
        };
        out.push((step.at, spec));
    }
    for ((_, spec), step) in out.iter().zip(&scenario.steps) {
        if let Some(s) = spec.session()
            && !started.contains(s)
        {
            let span = step.table.get("session").map(|v| v.span.clone()).unwrap_or(step.table.span.clone());
            return Err(src.error(span, format!("session `{s}` is never started; add a `start_session` step for it")));
        }
    }
    Ok(out)
}

/// The ids of one session's actors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionIds {
    /// The session (its proxy-side tracker): the name as written.
    pub session: Id,
    /// Its SSE server (`server:NAME`).
    pub server: Id,
    /// Its consuming application (`app:NAME`).
    pub app: Id,
}

impl SessionIds {
    /// Intern the ids of session `name`.
    pub fn intern(names: &mut Names, name: &str) -> Self {
        SessionIds {
            session: names.intern(name),
            server: names.intern(&format!("server:{name}")),
            app: names.intern(&format!("app:{name}")),
        }
    }
}

/// A scripted action, names resolved to ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SseAction {
    /// Create the session and open its first stream.
    Start(SessionIds),
    /// Emit `count` events.
    Burst(SessionIds, u64),
    /// Break the stream.
    Disconnect(SessionIds),
    /// Open a new stream with Last-Event-ID; `true`: the old stream's task goes on.
    Reconnect(SessionIds, bool),
    /// Lose the tracker's memory and the stream.
    Restart(SessionIds),
    /// Stall the store (`store` is the store's id).
    StallStore(Id, u64),
    /// Stop the worker (`worker` is its id).
    CloseWorker(Id),
}

impl SseAction {
    /// Resolve `spec`'s names.
    pub fn resolve(spec: &StepSpec, names: &mut Names, store: Id, worker: Id) -> Self {
        match spec {
            StepSpec::Start(s) => SseAction::Start(SessionIds::intern(names, s)),
            StepSpec::Burst(s, n) => SseAction::Burst(SessionIds::intern(names, s), *n),
            StepSpec::Disconnect(s) => SseAction::Disconnect(SessionIds::intern(names, s)),
            StepSpec::Reconnect(s, o) => SseAction::Reconnect(SessionIds::intern(names, s), *o),
            StepSpec::Restart(s) => SseAction::Restart(SessionIds::intern(names, s)),
            StepSpec::StallStore(t) => SseAction::StallStore(store, *t),
            StepSpec::CloseWorker => SseAction::CloseWorker(worker),
        }
    }

    /// The session acted on, if any.
    pub fn session(&self) -> Option<SessionIds> {
        match *self {
            SseAction::Start(s)
            | SseAction::Burst(s, _)
            | SseAction::Disconnect(s)
            | SseAction::Reconnect(s, _)
            | SseAction::Restart(s) => Some(s),
            SseAction::StallStore(..) | SseAction::CloseWorker(_) => None,
        }
    }
}

impl Describe for SseAction {
    fn label(&self) -> &'static str {
        match self {
            SseAction::Start(_) => "start_session",
            SseAction::Burst(..) => "burst",
            SseAction::Disconnect(_) => "disconnect",
            SseAction::Reconnect(..) => "reconnect",
            SseAction::Restart(_) => "restart",
            SseAction::StallStore(..) => "stall_store",
            SseAction::CloseWorker(_) => "close_worker",
        }
    }

    fn actor(&self) -> Id {
        match *self {
            SseAction::StallStore(store, _) => store,
            SseAction::CloseWorker(worker) => worker,
            _ => self.session().map_or(Id::NONE, |s| s.session),
        }
    }

    fn args(&self) -> Args {
        match *self {
            SseAction::Burst(_, n) => Args::EMPTY.u("count", n),
            SseAction::StallStore(_, t) => Args::EMPTY.u("ticks", t),
            SseAction::Reconnect(_, true) => Args::EMPTY.b("overlap", true),
            _ => Args::EMPTY,
        }
    }
}
