//! A Mermaid sequence diagram of a run, to paste into Markdown (GitHub renders it).
//!
//! Participants are the stable ids in order of first appearance, declared under short
//! aliases (`A1`, `A2`, ...) because ids hold characters Mermaid's grammar reserves (`:`,
//! `#`, `-`). Each delivery is a solid arrow drawn when it arrives, labelled with the tick it
//! was sent; a dropped envelope is a dashed arrow ending in a cross, a held one a dashed
//! arrow when it is held (and a solid one when it finally arrives). Faults, scripted acts,
//! calls, state changes and notes are notes over their actor; the violation is a note on a
//! red background. All text goes through [`text`], which writes the characters Mermaid's
//! lexer stops at (`#`, `;`, `%`) and those its HTML sanitiser eats (`<`, `>`, `&`, `"`) as
//! Mermaid entity codes (`#35;`).

use crate::engine::Id;
use crate::engine::trace::{Event, EventKind, val_text};
use crate::report::view::View;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Most arrows and notes drawn; longer runs keep the end, where the violation is (Mermaid's
/// default `maxTextSize` of 50,000 characters would refuse a whole long run).
pub const MAX_ITEMS: usize = 300;
/// Longest argument list written into a note.
const ARGS_MAX: usize = 60;

/// The diagram of `view`.
pub fn render(view: &View) -> String {
    let drawn: Vec<usize> = view.shown.iter().copied().filter(|&i| draws(view, i)).collect();
    let omitted = drawn.len().saturating_sub(MAX_ITEMS);
    let kept = &drawn[omitted..];
    let mut order = view.participants(kept);
    for id in &view.named {
        if !order.contains(id) {
            order.push(*id);
        }
    }
    if order.is_empty() {
        // A run with nothing to draw still needs one participant for its notes.
        order.push(Id::NONE);
    }
    let alias: BTreeMap<Id, String> = order.iter().enumerate().map(|(k, id)| (*id, format!("A{}", k + 1))).collect();

    let o = view.outcome;
    let mut out = String::from("sequenceDiagram\n");
    let _ = writeln!(
        out,
        "    %% racelab explain: {} / {} / seed {}: {} (trace {})",
        comment(&o.scenario),
        comment(&o.variant),
        o.seed,
        comment(&o.verdict.summary()),
        o.trace_hash
    );
    for id in &order {
        let name = if id.is_none() { "run" } else { view.name(*id) };
        let _ = writeln!(out, "    participant {} as {}", alias[id], text(name));
    }
    if omitted > 0 && order.len() >= 2 {
        let _ = writeln!(
            out,
            "    Note over {},{}: {}",
            alias[&order[0]],
            alias[&order[order.len() - 1]],
            text(&format!("... {omitted} earlier arrows and notes not shown (--focus ID narrows the view) ..."))
        );
    }
    let first = alias[&order[0]].clone();
    for &i in kept {
        item(view, i, &alias, &first, &mut out);
    }
    out
}

/// Whether event `i` becomes an arrow or a note (delivered sends are drawn at their delivery).
fn draws(view: &View, i: usize) -> bool {
    let e = &view.events[i];
    e.kind != EventKind::Send || view.links.partner(i).is_none()
}

fn item(view: &View, i: usize, alias: &BTreeMap<Id, String>, first: &str, out: &mut String) {
    let e = &view.events[i];
    // An event without an actor (a scripted step of the whole world) is put on its other
    // party, or on the first participant.
    let a = |id: Id| alias.get(&id).or_else(|| alias.get(&e.other)).cloned().unwrap_or_else(|| first.to_owned());
    let t = e.tick;
    let label = format!("{} #{}", e.what, e.env);
    match e.kind {
        EventKind::Deliver => {
            let sent = view.links.partner(i).map(|s| &view.events[s]);
            let how = match sent {
                Some(s) if s.kind == EventKind::Duplicate => format!(" (copy, sent t{})", s.tick),
                Some(s) if s.kind == EventKind::Hold => format!(" (held, sent t{})", s.tick),
                Some(s) => format!(" (sent t{})", s.tick),
                None => String::new(),
            };
            arrow(out, &a(e.other), "->>", &a(e.actor), &format!("t{t} {label}{how}"));
        }
        EventKind::Drop => arrow(out, &a(e.actor), "--x", &a(e.other), &format!("t{t} {label} DROPPED")),
        EventKind::Hold => {
            arrow(out, &a(e.actor), "-->>", &a(e.other), &format!("t{t} {label} HELD until t{}", e.due));
        }
        EventKind::Send => {
            // Sent but never delivered: still in flight when the run ended.
            arrow(out, &a(e.actor), "--)", &a(e.other), &format!("t{t} {label} in flight at the end"));
        }
        EventKind::Duplicate => {
            note(out, &a(e.actor), &format!("t{t} DUPLICATED {label} to {}", view.name(e.other)));
        }
        EventKind::Violation => {
            let over: Vec<String> = view.named.iter().filter_map(|id| alias.get(id).cloned()).collect();
            let span = match (over.first(), over.last()) {
                (Some(f), Some(l)) if f != l => format!("{f},{l}"),
                (Some(f), _) => f.clone(),
                _ => a(e.actor),
            };
            let detail = e.detail.as_deref().unwrap_or("");
            out.push_str("    rect rgb(255, 215, 215)\n");
            let _ = writeln!(out, "    Note over {span}: {}", text(&format!("t{t} VIOLATION {}: {detail}", e.what)));
            out.push_str("    end\n");
        }
        _ => {
            let mut s = format!("t{t} {} {}", e.kind.name(), e.what);
            if !e.other.is_none() && e.kind != EventKind::State {
                let _ = write!(s, " ({})", view.name(e.other));
            }
            let args = args_text(view, e);
            if !args.is_empty() {
                s.push(' ');
                s.push_str(&args);
            }
            note(out, &a(e.actor), &s);
        }
    }
}

fn arrow(out: &mut String, from: &str, kind: &str, to: &str, label: &str) {
    let _ = writeln!(out, "    {from}{kind}{to}: {}", text(label));
}

fn note(out: &mut String, over: &str, label: &str) {
    let _ = writeln!(out, "    Note over {over}: {}", text(label));
}

fn args_text(view: &View, e: &Event) -> String {
    let s: Vec<String> = e.args.iter().map(|(k, v)| format!("{k}={}", val_text(v, view.names))).collect();
    let s = s.join(" ");
    if s.chars().count() > ARGS_MAX { s.chars().take(ARGS_MAX - 3).collect::<String>() + "..." } else { s }
}

/// `s` made safe inside a `%%` comment line: a line break would end the comment (the next
/// line could be a statement) and `%%{` would start a directive, so both are defused.
pub fn comment(s: &str) -> String {
    let flat: String =
        s.chars().map(|c| if c.is_control() || c == '\u{2028}' || c == '\u{2029}' { ' ' } else { c }).collect();
    let mut flat = flat.replace('{', "(").replace('}', ")");
    // One pass leaves `%%` behind in `%%%`: repeat until none is left.
    while flat.contains("%%") {
        flat = flat.replace("%%", "% %");
    }
    flat
}

/// `s` made safe as Mermaid sequence-diagram text: one line, with every character Mermaid's
/// lexer or sanitiser treats specially written as an entity code, which Mermaid turns back
/// into the character when it renders.
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '#' => out.push_str("#35;"),
            ';' => out.push_str("#59;"),
            '%' => out.push_str("#37;"),
            '<' => out.push_str("#60;"),
            '>' => out.push_str("#62;"),
            '&' => out.push_str("#38;"),
            '"' => out.push_str("#34;"),
            ':' => out.push_str("#58;"),
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}
