//! The scenario steps this model accepts, parsed into actions with located errors.

use super::actors::{BASE_ADAPTERS, channel_name, registry_name};
use crate::engine::ids::{Id, Names};
use crate::engine::model::StepDoc;
use crate::engine::trace::{Args, Describe};
use crate::scenario::{At, Scenario, ScenarioError, Source, Step};
use std::ops::Range;

/// The steps, their fields and what they do.
pub const STEPS: &[StepDoc] = &[
    StepDoc {
        name: "register_callback",
        fields: &["adapter", "handler"],
        about: "register `handler` on `adapter` (a base adapter: twitch, obs, test, or a clone); \
                the handler named `features` is the feature manager that drives the reactive chain",
    },
    StepDoc {
        name: "clone_adapter",
        fields: &["from", "as"],
        about: "clone adapter `from` into a new adapter named `as` (the clone is not subscribed to the event bus)",
    },
    StepDoc {
        name: "auth_event",
        fields: &["kind"],
        about: "the auth manager publishes `kind` (token_refreshed, auth_failed, recovered) on the event bus",
    },
    StepDoc {
        name: "join",
        fields: &["channel"],
        about: "join `channel`: chat, a user lock, and an EventSub subscription once connected",
    },
    StepDoc { name: "leave", fields: &["channel"], about: "leave `channel`" },
    StepDoc {
        name: "message_burst",
        fields: &["channel", "count"],
        about: "the chat server sends `count` chat messages in `channel` on the live connection",
    },
    StepDoc {
        name: "connection_silent",
        fields: &["ticks"],
        about: "the chat connection dies secretly: no traffic, no close, until the OS reports it `ticks` later",
    },
    StepDoc {
        name: "connection_drop",
        fields: &[],
        about: "the chat connection closes visibly; the coordinator reconnects",
    },
    StepDoc {
        name: "persistent_failure",
        fields: &["ticks"],
        about: "every reconnect attempt the chat server sees in the next `ticks` ticks is refused",
    },
];

/// An auth event's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthKind {
    /// The token was refreshed: auth is ok.
    TokenRefreshed,
    /// Authentication failed: auth is not ok.
    AuthFailed,
    /// Authentication recovered after a failure: auth is ok.
    Recovered,
}

impl AuthKind {
    const ALL: [AuthKind; 3] = [AuthKind::TokenRefreshed, AuthKind::AuthFailed, AuthKind::Recovered];

    /// The name scenarios and traces use.
    pub fn name(self) -> &'static str {
        match self {
            AuthKind::TokenRefreshed => "token_refreshed",
            AuthKind::AuthFailed => "auth_failed",
            AuthKind::Recovered => "recovered",
        }
    }

    /// Whether auth is ok after this event.
    pub fn ok(self) -> bool {
        self != AuthKind::AuthFailed
    }
}

/// One scripted action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Register `handler` on `adapter`.
    RegisterCallback {
        /// The adapter.
        adapter: Id,
        /// The handler.
        handler: Id,
    },
    /// Clone `from` into a new adapter `to`.
    CloneAdapter {
        /// The source adapter.
        from: Id,
        /// The new adapter.
        to: Id,
        /// The id a fresh registry of the clone gets (used only when the clone does not share).
        registry: Id,
    },
    /// Publish an auth event.
    AuthEvent {
        /// Which.
        kind: AuthKind,
    },
    /// Join a channel.
    Join {
        /// The channel.
        channel: Id,
    },
    /// Leave a channel.
    Leave {
        /// The channel.
        channel: Id,
    },
    /// The chat server sends `count` messages in `channel`.
    MessageBurst {
        /// The channel.
        channel: Id,
        /// How many.
        count: u64,
    },
    /// The connection dies secretly; the OS reports the close `ticks` later.
    ConnectionSilent {
        /// Until the close is reported.
        ticks: u64,
    },
    /// The connection closes visibly.
    ConnectionDrop,
    /// Reconnect attempts fail for `ticks` ticks.
    PersistentFailure {
        /// How long.
        ticks: u64,
    },
}

impl Describe for Action {
    fn label(&self) -> &'static str {
        match self {
            Action::RegisterCallback { .. } => "register_callback",
            Action::CloneAdapter { .. } => "clone_adapter",
            Action::AuthEvent { .. } => "auth_event",
            Action::Join { .. } => "join",
            Action::Leave { .. } => "leave",
            Action::MessageBurst { .. } => "message_burst",
            Action::ConnectionSilent { .. } => "connection_silent",
            Action::ConnectionDrop => "connection_drop",
            Action::PersistentFailure { .. } => "persistent_failure",
        }
    }

    fn actor(&self) -> Id {
        match *self {
            Action::RegisterCallback { adapter, .. } => adapter,
            Action::CloneAdapter { from, .. } => from,
            Action::Join { channel } | Action::Leave { channel } | Action::MessageBurst { channel, .. } => channel,
            _ => Id::NONE,
        }
    }

    fn target(&self) -> Id {
        match *self {
            Action::CloneAdapter { to, .. } => to,
            _ => Id::NONE,
        }
    }

    fn args(&self) -> Args {
        match *self {
            Action::RegisterCallback { handler, .. } => Args::EMPTY.id("handler", handler),
            Action::AuthEvent { kind } => Args::EMPTY.s("kind", kind.name()),
            Action::MessageBurst { count, .. } => Args::EMPTY.u("count", count),
            Action::ConnectionSilent { ticks } | Action::PersistentFailure { ticks } => Args::EMPTY.u("ticks", ticks),
            _ => Args::EMPTY,
        }
    }
}

/// An adapter known while parsing: its name and, for a clone, the step that creates it.
struct Known {
    name: String,
    created_by: Option<(usize, At, Range<usize>)>,
}

fn bounds(at: At) -> (u64, u64) {
    match at {
        At::Tick(t) => (t, t),
        At::Window(lo, hi) => (lo, hi),
    }
}

/// Whether step `a` runs before step `b` whatever ticks the tape picks for their windows
/// (steps due on the same tick run in file order).
fn surely_before(a: (usize, At), b: (usize, At)) -> bool {
    let (_, a_hi) = bounds(a.1);
    let (b_lo, _) = bounds(b.1);
    a_hi < b_lo || (a_hi == b_lo && a.0 < b.0)
}

fn span_of(step: &Step, field: &str) -> Range<usize> {
    step.table.get(field).map_or_else(|| step.table.span.clone(), |v| v.span.clone())
}

fn nonempty(step: &Step, src: &Source, field: &str) -> Result<String, ScenarioError> {
    let s = step.str(src, field)?;
    if s.trim().is_empty() {
        return Err(src.error(span_of(step, field), format!("`{field}` must not be empty")));
    }
    Ok(s)
}

fn bounded(step: &Step, src: &Source, field: &str, max: u64) -> Result<u64, ScenarioError> {
    let n = step.uint(src, field)?;
    if n == 0 || n > max {
        return Err(src.error(span_of(step, field), format!("`{field}` = {n} is out of range; expected 1..={max}")));
    }
    Ok(n)
}

fn existing_adapter(
    step: &Step,
    index: usize,
    field: &str,
    known: &[Known],
    src: &Source,
) -> Result<String, ScenarioError> {
    let name = nonempty(step, src, field)?;
    let Some(k) = known.iter().find(|k| k.name == name) else {
        let list: Vec<&str> = known.iter().map(|k| k.name.as_str()).collect();
        return Err(src.error(
            span_of(step, field),
            format!(
                "unknown adapter `{name}`; expected one of: {} (a clone exists only after its `clone_adapter` step)",
                list.join(", ")
            ),
        ));
    };
    if let Some((by, at, span)) = &k.created_by
        && !surely_before((*by, *at), (index, step.at))
    {
        let (line, _) = src.line_col(span.start);
        return Err(src.error(
            span_of(step, field),
            format!(
                "adapter `{name}` is created by the `clone_adapter` step at line {line}, which may run after this step; \
                 expected this step to be due after that one"
            ),
        ));
    }
    Ok(name)
}

/// Parse every step of `scenario`, interning the names it uses in `names`.
pub fn parse(scenario: &Scenario, names: &mut Names) -> Result<Vec<(At, Action)>, ScenarioError> {
    let src = &scenario.source;
    let mut known: Vec<Known> =
        BASE_ADAPTERS.iter().map(|k| Known { name: k.name().to_owned(), created_by: None }).collect();
    let mut out = Vec::with_capacity(scenario.steps.len());
    for (index, step) in scenario.steps.iter().enumerate() {
        let action = match step.kind.as_str() {
            "register_callback" => {
                step.deny_unknown(src, &["adapter", "handler"])?;
                let adapter = existing_adapter(step, index, "adapter", &known, src)?;
                let handler = nonempty(step, src, "handler")?;
                Action::RegisterCallback { adapter: names.intern(&adapter), handler: names.intern(&handler) }
            }
            "clone_adapter" => {
                step.deny_unknown(src, &["from", "as"])?;
                let from = existing_adapter(step, index, "from", &known, src)?;
                let to = nonempty(step, src, "as")?;
                if known.iter().any(|k| k.name == to) {
                    return Err(src.error(
                        span_of(step, "as"),
                        format!("adapter `{to}` already exists; `as` must name a new adapter"),
                    ));
                }
                known.push(Known { name: to.clone(), created_by: Some((index, step.at, step.table.span.clone())) });
                Action::CloneAdapter {
                    from: names.intern(&from),
                    to: names.intern(&to),
                    registry: names.intern(&registry_name(&to)),
                }
            }
            "auth_event" => {
                step.deny_unknown(src, &["kind"])?;
                let kind = step.str(src, "kind")?;
                let Some(kind) = AuthKind::ALL.into_iter().find(|k| k.name() == kind) else {
                    return Err(src.error(
                        span_of(step, "kind"),
                        format!(
                            "unknown auth event kind `{kind}`; expected one of: token_refreshed, auth_failed, recovered"
                        ),
                    ));
                };
                Action::AuthEvent { kind }
            }
            "join" | "leave" => {
                step.deny_unknown(src, &["channel"])?;
                let channel = names.intern(&channel_name(nonempty(step, src, "channel")?.trim()));
                if step.kind == "join" { Action::Join { channel } } else { Action::Leave { channel } }
            }
            "message_burst" => {
                step.deny_unknown(src, &["channel", "count"])?;
                let channel = names.intern(&channel_name(nonempty(step, src, "channel")?.trim()));
                Action::MessageBurst { channel, count: bounded(step, src, "count", 10_000)? }
            }
            "connection_silent" => {
                step.deny_unknown(src, &["ticks"])?;
                Action::ConnectionSilent { ticks: bounded(step, src, "ticks", 1_000_000)? }
            }
            "connection_drop" => {
                step.deny_unknown(src, &[])?;
                Action::ConnectionDrop
            }
            "persistent_failure" => {
                step.deny_unknown(src, &["ticks"])?;
                Action::PersistentFailure { ticks: bounded(step, src, "ticks", 1_000_000)? }
            }
            other => {
                let list: Vec<&str> = STEPS.iter().map(|s| s.name).collect();
                return Err(src.error(
                    step.kind_span.clone(),
                    format!("unknown step `{other}`; expected one of: {}", list.join(", ")),
                ));
            }
        };
        out.push((step.at, action));
    }
    Ok(out)
}
