//! A readable timeline: one line per event in aligned columns (tick, actor, what happened, to
//! or from whom, details), faults and the violating line marked, the state history of the ids
//! the verdict names above it, and long stretches of plain wire traffic folded into one line.

use crate::engine::trace::{Event, EventKind, val_text};
use crate::engine::{Names, Outcome, Trace};
use crate::report::view::View;
use std::fmt::Write as _;

/// Fewest consecutive plain sends and deliveries folded into one line.
pub const FOLD_MIN: usize = 12;
/// The last events before the end are never folded: they are the race itself.
pub const KEEP_TAIL: usize = 16;

const VIOLATION_MARK: &str = ">>";
const ACTOR_MAX: usize = 24;
const EVENT_MAX: usize = 34;
const WITH_MAX: usize = 27;

/// The whole timeline of a run, folded, with a header naming the outcome.
pub fn render(trace: &Trace, names: &Names, outcome: &Outcome) -> String {
    render_view(&View::new(trace.events(), names, outcome), true)
}

/// The timeline of `view`; `fold` folds long stretches of plain wire traffic.
pub fn render_view(view: &View, fold: bool) -> String {
    let o = view.outcome;
    let mut out = format!(
        "{} / {} / seed {}: {}  (tick {}, {} messages, trace {})\n",
        o.scenario,
        o.variant,
        o.seed,
        o.verdict.summary(),
        o.ticks,
        o.messages,
        o.trace_hash
    );
    if let Some(cmd) = &view.reproduce {
        let _ = writeln!(out, "reproduce: {cmd}");
    }
    for r in &view.remarks {
        let _ = writeln!(out, "{r}");
    }
    if !view.named.is_empty() {
        out.push_str("named by the verdict, and their states:\n");
        let width = view.named.iter().map(|id| view.name(*id).len()).max().unwrap_or(0);
        for id in &view.named {
            let states = view.states(*id);
            let history = if states.is_empty() {
                "(no state changes)".to_owned()
            } else {
                states.iter().map(|(t, s)| format!("{s} t{t}")).collect::<Vec<_>>().join(" -> ")
            };
            let _ = writeln!(out, "  {}  {history}", pad(view.name(*id), width));
        }
    }
    if !view.focus.is_empty() {
        let ids: Vec<&str> = view.focus.iter().map(|id| view.name(*id)).collect();
        let _ = writeln!(out, "focus: {} ({} of {} events)", ids.join(", "), view.shown.len(), view.events.len());
    }

    let rows: Vec<Row> = view.shown.iter().map(|&i| row(view, i)).collect();
    // The violation's line is never cut and does not widen the columns of the others.
    let sized = || rows.iter().filter(|r| r.mark != VIOLATION_MARK);
    let aw = sized().map(|r| r.actor.chars().count()).max().unwrap_or(0).clamp(5, ACTOR_MAX);
    let ew = sized().map(|r| r.event.chars().count()).max().unwrap_or(0).clamp(5, EVENT_MAX);
    let ww = sized().map(|r| r.with.chars().count()).max().unwrap_or(0).clamp(4, WITH_MAX);
    let _ = writeln!(out, "      tick  {:<aw$}  {:<ew$}  {:<ww$}  details", "actor", "event", "with");
    let quiet: Vec<bool> = view.shown.iter().map(|&i| is_quiet(&view.events[i])).collect();
    let tail_start = rows.len().saturating_sub(KEEP_TAIL);
    let mut k = 0;
    while k < rows.len() {
        if fold && k < tail_start && quiet[k] {
            let end = (k..tail_start).find(|&j| !quiet[j]).unwrap_or(tail_start);
            if end - k >= FOLD_MIN {
                out.push_str(&fold_line(view, &view.shown[k..end]));
                k = end;
                continue;
            }
        }
        let r = &rows[k];
        let cut = |s: &str, w: usize| if r.mark == VIOLATION_MARK { s.to_owned() } else { clip(s, w) };
        let mut s = format!(
            "{}{:>8}  {:<aw$}  {:<ew$}  {:<ww$}  {}",
            r.mark,
            r.tick,
            cut(&r.actor, aw),
            cut(&r.event, ew),
            cut(&r.with, ww),
            r.details
        );
        let trimmed = s.trim_end().len();
        s.truncate(trimmed);
        out.push_str(&s);
        out.push('\n');
        k += 1;
    }
    // Actor names, details and the scenario's own strings come from users: no escape
    // sequence reaches the terminal.
    super::term::clean_block(&out).into_owned()
}

/// Plain wire traffic: a send or delivery with no fault.
fn is_quiet(e: &Event) -> bool {
    matches!(e.kind, EventKind::Send | EventKind::Deliver)
}

fn fold_line(view: &View, run: &[usize]) -> String {
    let first = view.events[run[0]].tick;
    let last = view.events[run[run.len() - 1]].tick;
    let sends = run.iter().filter(|&&i| view.events[i].kind == EventKind::Send).count();
    let deliveries = run.len() - sends;
    let span =
        if first == last { format!("tick {first}") } else { format!("{} ticks ({first}..{last})", last - first) };
    format!("          ... {span}: {sends} sends, {deliveries} deliveries ...\n")
}

struct Row {
    mark: &'static str,
    tick: u64,
    actor: String,
    event: String,
    with: String,
    details: String,
}

fn row(view: &View, i: usize) -> Row {
    let e = &view.events[i];
    let names = view.names;
    let mark = match e.kind {
        EventKind::Violation => VIOLATION_MARK,
        k if k.is_fault() => " !",
        _ if view.is_named_state(e) => " *",
        _ => "  ",
    };
    let mut event = format!("{} {}", e.kind.name(), e.what);
    if e.env != 0 {
        let _ = write!(event, " #{}", e.env);
    }
    let with = if e.other.is_none() {
        String::new()
    } else {
        let arrow = match e.kind {
            EventKind::Send | EventKind::Drop | EventKind::Duplicate | EventKind::Hold => "-> ",
            EventKind::Deliver => "<- ",
            _ => "   ",
        };
        format!("{arrow}{}", names.name(e.other))
    };
    let mut details = String::new();
    match e.kind {
        EventKind::Send => {
            let _ = write!(details, "due {}", e.due);
        }
        EventKind::Duplicate => {
            let _ = write!(details, "copy, due {}", e.due);
        }
        EventKind::Hold => {
            let _ = write!(details, "held until {}", e.due);
        }
        EventKind::Drop => details.push_str("lost"),
        EventKind::Deliver => {
            if let Some(s) = view.links.partner(i) {
                let sent = &view.events[s];
                let _ = write!(details, "sent {}", sent.tick);
                match sent.kind {
                    EventKind::Duplicate => details.push_str(" (copy)"),
                    EventKind::Hold => details.push_str(" (held)"),
                    _ => {}
                }
            }
        }
        _ => {}
    }
    for (k, v) in e.args.iter() {
        if !details.is_empty() {
            details.push(' ');
        }
        let _ = write!(details, "{k}={}", val_text(v, names));
    }
    if let Some(d) = &e.detail {
        if !details.is_empty() {
            details.push_str("  ");
        }
        details.push_str(d);
    }
    Row { mark, tick: e.tick, actor: names.name(e.actor).to_owned(), event, with, details }
}

/// `s` cut to `width` characters, marking the cut with `~`.
fn clip(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(width.saturating_sub(1)).collect();
    out.push('~');
    out
}

/// `s` padded with spaces to `width` characters; any length works (a format width of more
/// than 65,535 would panic).
fn pad(s: &str, width: usize) -> String {
    let n = s.chars().count();
    let mut out = String::with_capacity(s.len() + width.saturating_sub(n));
    out.push_str(s);
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(n)));
    out
}
