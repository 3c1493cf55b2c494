//! The canonical JSON Lines form of a trace: one event per line, then the outcome.

use crate::engine::trace::event_json;
use crate::engine::{Names, Outcome, Trace};

/// The trace as JSON Lines, ending with one line holding the outcome.
pub fn render(trace: &Trace, names: &Names, outcome: &Outcome) -> String {
    let mut out = String::new();
    for e in trace.events() {
        out.push_str(&event_json(e, names));
        out.push('\n');
    }
    out.push_str(&serde_json::to_string(outcome).unwrap_or_default());
    out.push('\n');
    out
}
