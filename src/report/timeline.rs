//! A readable timeline: one line per event, aligned columns, faults and the violation marked.

use crate::engine::trace::{Event, EventKind, val_text};
use crate::engine::{Names, Outcome, Trace};
use std::fmt::Write as _;

/// One event as a timeline line (without the trailing newline).
pub fn line(e: &Event, names: &Names) -> String {
    let mark = match e.kind {
        EventKind::Violation => ">>",
        k if k.is_fault() => " !",
        _ => "  ",
    };
    let arrow = match e.kind {
        EventKind::Send | EventKind::Drop | EventKind::Duplicate | EventKind::Hold => "->",
        EventKind::Deliver => "<-",
        _ => "  ",
    };
    let mut what = format!("{} {}", e.kind.name(), e.what);
    if e.env != 0 {
        let _ = write!(what, " #{}", e.env);
    }
    let mut s =
        format!("{mark}{:>6}  {:<12} {arrow} {:<12} {:<30}", e.tick, names.name(e.actor), names.name(e.other), what);
    if matches!(e.kind, EventKind::Send | EventKind::Hold | EventKind::Duplicate) {
        let _ = write!(s, " due {}", e.due);
    }
    for (k, v) in e.args.iter() {
        let _ = write!(s, " {k}={}", val_text(v, names));
    }
    if let Some(d) = &e.detail {
        let _ = write!(s, "  {d}");
    }
    s.trim_end().to_owned()
}

/// The whole timeline with a header naming the outcome.
pub fn render(trace: &Trace, names: &Names, outcome: &Outcome) -> String {
    let mut out = format!(
        "{} / {} / seed {}: {}  (tick {}, {} messages, trace {})\n",
        outcome.scenario,
        outcome.variant,
        outcome.seed,
        outcome.verdict.summary(),
        outcome.ticks,
        outcome.messages,
        outcome.trace_hash
    );
    out.push_str("    tick  actor           other        event\n");
    for e in trace.events() {
        out.push_str(&line(e, names));
        out.push('\n');
    }
    out
}
