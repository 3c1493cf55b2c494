//! A self-contained HTML report of a run: a header saying what ran and how it ended, then
//! one lane per actor with time flowing down, envelopes as arrows from the send to the
//! delivery, faults in orange, the violation in red.
//!
//! One file, inline CSS and SVG, no script, no font or image fetched from anywhere, so it
//! opens offline and can be attached to a bug. Big traces stay usable because time is
//! drawn by event, not by tick (idle ticks cost a few pixels however many there are), the
//! SVG is plain shapes without filters, gradients or per-element styles, and a run beyond
//! [`MAX_EVENTS`] events keeps its last ones, where the violation is.

use crate::engine::trace::{Event, EventKind, val_text};
use crate::engine::{Id, Verdict};
use crate::report::envelopes::is_send_like;
use crate::report::view::View;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Most events drawn; a longer run keeps its last ones.
pub const MAX_EVENTS: usize = 20_000;
/// The element id of the violation's band, for links (`report.html#violation`) and tests.
pub const VIOLATION_ID: &str = "violation";

const GUTTER: u64 = 64;
const LANE_W: u64 = 150;
const ROW_H: u64 = 16;
const TOP: u64 = 10;
const LABEL_MAX: usize = 30;

const CSS: &str = r#"
:root { color-scheme: light; }
body { margin: 0; font: 13px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d1d1f; background: #fff; }
header { padding: 14px 18px 10px; border-bottom: 1px solid #ddd; background: #fafafa; }
h1 { font-size: 18px; margin: 0 0 6px; }
h1 small { font-weight: normal; color: #555; }
.verdict { font-size: 14px; margin: 4px 0 8px; padding: 6px 10px; border-left: 4px solid #c4001a; background: #ffecec; }
.verdict.pass { border-color: #1b7837; background: #e9f6ec; }
table.facts { border-collapse: collapse; margin: 4px 0; }
table.facts th { text-align: left; font-weight: 600; padding: 1px 14px 1px 0; color: #555; vertical-align: top; }
table.facts td { padding: 1px 0; }
code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px; }
.legend { margin: 8px 0 0; color: #444; }
.legend span { margin-right: 14px; white-space: nowrap; }
.sw { display: inline-block; width: 22px; height: 0; border-top: 2px solid; vertical-align: middle; margin-right: 4px; }
.sw.wire { border-color: #3a6ea5; } .sw.fault { border-color: #e66100; } .sw.held { border-color: #e66100; border-top-style: dashed; }
.dot { display: inline-block; width: 9px; height: 9px; vertical-align: middle; margin-right: 4px; }
.dot.state { background: #1b7837; } .dot.call { background: #888; border-radius: 50%; } .dot.act { background: #222; transform: rotate(45deg); }
.dot.note { background: #7b3294; border-radius: 50%; } .dot.viol { background: #c4001a; }
a { color: #0b57d0; }
.board { position: relative; }
.heads { position: sticky; top: 0; z-index: 2; height: 26px; background: rgba(255,255,255,0.96); border-bottom: 1px solid #ccc; }
.heads div { position: absolute; top: 4px; text-align: center; font: 12px/18px ui-monospace, "DejaVu Sans Mono", monospace; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.heads div.named { color: #c4001a; font-weight: bold; }
svg { display: block; }
svg text { font: 11px ui-monospace, "DejaVu Sans Mono", monospace; fill: #333; }
svg .tick { fill: #888; text-anchor: end; }
svg .gap { fill: #aaa; text-anchor: end; font-size: 10px; }
svg .gapband { fill: #f3f3f3; }
svg .lane { stroke: #d6d6d6; stroke-width: 1; }
svg .lane.named { stroke: #f0a0a8; stroke-width: 2; }
svg .w { stroke: #3a6ea5; stroke-width: 1.4; fill: none; }
svg .f { stroke: #e66100; stroke-width: 1.6; fill: none; }
svg .held { stroke-dasharray: 5 3; }
svg .old { stroke: #aaa; stroke-dasharray: 2 3; }
svg .hit { stroke: transparent; stroke-width: 8; fill: none; }
svg g.e:hover .w, svg g.e:hover .f { stroke-width: 3; }
svg .mw { fill: #3a6ea5; font-size: 10px; }
svg .mf { fill: #e66100; font-size: 10px; }
svg .x { fill: #e66100; font-weight: bold; font-size: 13px; }
svg .state { fill: #1b7837; }
svg .state.named { fill: #c4001a; font-weight: bold; }
svg .call { fill: #666; }
svg .act { fill: #111; font-weight: bold; }
svg .note { fill: #7b3294; }
svg .violation rect { fill: #ffd6d6; fill-opacity: 0.75; stroke: #c4001a; stroke-width: 1; }
svg .violation text { fill: #8a0012; font-weight: bold; font-size: 12px; }
"#;

/// The report of `view` as one HTML document.
pub fn render(view: &View) -> String {
    let skipped = view.shown.len().saturating_sub(MAX_EVENTS);
    let rows = &view.shown[skipped..];
    let mut lanes = view.participants(rows);
    for id in &view.named {
        if !lanes.contains(id) {
            lanes.push(*id);
        }
    }
    let lane_of: BTreeMap<Id, u64> = lanes.iter().enumerate().map(|(k, id)| (*id, k as u64)).collect();
    let width = GUTTER + LANE_W * lanes.len().max(1) as u64 + LANE_W;

    // Rows: one per event; a jump in time adds a little space, however long the idle stretch.
    let mut ys = Vec::with_capacity(rows.len());
    let mut y = TOP;
    let mut prev: Option<u64> = None;
    let mut gaps = String::new();
    let mut ticks = String::new();
    for &i in rows {
        let t = view.events[i].tick;
        match prev {
            Some(p) if t > p + 1 => {
                let idle = t - p - 1;
                let extra = 12 + 4 * u64::from(idle.ilog2()).min(7);
                let _ = writeln!(
                    gaps,
                    r#"<rect class="gapband" x="0" y="{}" width="{width}" height="{}"/><text class="gap" x="{}" y="{}">{idle} idle</text>"#,
                    y + 2,
                    extra - 2,
                    GUTTER - 6,
                    y + extra / 2 + 4,
                );
                y += extra;
            }
            _ => {}
        }
        y += ROW_H;
        if prev != Some(t) {
            let _ = writeln!(ticks, r#"<text class="tick" x="{}" y="{}">{t}</text>"#, GUTTER - 6, y - 4);
        }
        prev = Some(t);
        ys.push(y - ROW_H / 2);
    }
    let height = y + 3 * ROW_H;
    let row_of: BTreeMap<usize, u64> = rows.iter().zip(&ys).map(|(&i, &y)| (i, y)).collect();
    let lane_x = |id: Id| lane_of.get(&id).map(|k| GUTTER + LANE_W * k + LANE_W / 2);

    let mut arrows = String::new();
    let mut marks = String::new();
    let mut violation_y = None;
    let verdict_event = view.violation();
    for (&i, &y) in rows.iter().zip(&ys) {
        let e = &view.events[i];
        if e.kind == EventKind::Violation {
            violation_y = Some(y);
            violation(view, e, y, width, lane_x(e.actor), verdict_event == Some(i), &mut marks);
            continue;
        }
        // An event without an actor (a scripted step of the whole world) goes on its other
        // party's lane, or the first.
        let Some(x) = lane_x(e.actor).or_else(|| lane_x(e.other)).or_else(|| lanes.first().and_then(|id| lane_x(*id)))
        else {
            continue;
        };
        match e.kind {
            k if is_send_like(k) => send(view, i, e, x, y, lane_x(e.other), &row_of, &mut arrows),
            EventKind::Deliver => {
                let sent = view.links.partner(i);
                if sent.is_none_or(|s| !row_of.contains_key(&s)) {
                    // Sent before the first event drawn (or never seen): a stub from above.
                    let from = lane_x(e.other).unwrap_or(x);
                    let title = envelope_title(view, sent.map(|s| &view.events[s]), Some(e));
                    let _ = writeln!(
                        arrows,
                        r#"<g class="e"><title>{}</title><line class="w old" x1="{from}" y1="{}" x2="{x}" y2="{y}" marker-end="url(#aw)"/></g>"#,
                        esc(&title),
                        y.saturating_sub(3 * ROW_H)
                    );
                }
            }
            _ => mark(view, e, x, y, &mut marks),
        }
    }

    let mut out = String::with_capacity(4096 + rows.len() * 220);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    let o = view.outcome;
    let _ =
        writeln!(out, "<title>{}</title>", esc(&format!("racelab: {} / {} / seed {}", o.scenario, o.variant, o.seed)));
    let _ = writeln!(out, "<style>{CSS}</style>\n</head>\n<body>");
    header(view, skipped, violation_y.is_some(), &mut out);
    let _ = writeln!(out, r#"<div class="board" style="width:{width}px">"#);
    out.push_str("<div class=\"heads\">");
    for (k, id) in lanes.iter().enumerate() {
        let named = if view.named.contains(id) { " class=\"named\"" } else { "" };
        let _ = write!(
            out,
            r#"<div{named} style="left:{}px;width:{}px" title="{}">{}</div>"#,
            GUTTER + LANE_W * k as u64 + 4,
            LANE_W - 8,
            esc(view.name(*id)),
            esc(view.name(*id))
        );
    }
    out.push_str("</div>\n");
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">"#
    );
    out.push_str(concat!(
        "<defs>",
        r##"<marker id="aw" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#3a6ea5"/></marker>"##,
        r##"<marker id="af" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#e66100"/></marker>"##,
        r##"<marker id="dw" viewBox="0 0 6 6" refX="3" refY="3" markerWidth="5" markerHeight="5"><circle cx="3" cy="3" r="3" fill="#3a6ea5"/></marker>"##,
        r##"<marker id="df" viewBox="0 0 6 6" refX="3" refY="3" markerWidth="5" markerHeight="5"><circle cx="3" cy="3" r="3" fill="#e66100"/></marker>"##,
        "</defs>\n"
    ));
    out.push_str(&gaps);
    for (k, id) in lanes.iter().enumerate() {
        let x = GUTTER + LANE_W * k as u64 + LANE_W / 2;
        let class = if view.named.contains(id) { "lane named" } else { "lane" };
        let _ = writeln!(out, r#"<line class="{class}" x1="{x}" y1="0" x2="{x}" y2="{height}"/>"#);
    }
    out.push_str(&ticks);
    out.push_str(&arrows);
    out.push_str(&marks);
    out.push_str("</svg>\n</div>\n</body>\n</html>\n");
    out
}

fn header(view: &View, skipped: usize, has_violation: bool, out: &mut String) {
    let o = view.outcome;
    out.push_str("<header id=\"header\">\n");
    let _ = writeln!(out, "<h1>{} <small>/ {} / seed {}</small></h1>", esc(&o.scenario), esc(&o.variant), o.seed);
    let class = if o.verdict.is_pass() { "verdict pass" } else { "verdict" };
    let _ = writeln!(out, r#"<p class="{class}">{}</p>"#, esc(&o.verdict.summary()));
    out.push_str("<table class=\"facts\">\n");
    let verdict_kind = match &o.verdict {
        Verdict::Pass => "pass".to_owned(),
        Verdict::Violation { invariant, tick, .. } => format!("violation of {invariant} at tick {tick}"),
        Verdict::Liveness { monitor, tick, .. } => format!("liveness: {monitor}, judged at tick {tick}"),
        Verdict::Halted { limit } => format!("halted at {limit}"),
        Verdict::Diverged { .. } => "replay diverged".to_owned(),
    };
    let mut facts: Vec<(&str, String)> = vec![
        ("scenario", esc(&o.scenario)),
        ("variant", esc(&o.variant)),
        ("seed", o.seed.to_string()),
        ("verdict", esc(&verdict_kind)),
        ("trace hash", format!("<code>{}</code>", esc(&o.trace_hash))),
        ("run", format!("{} ticks, {} messages, {} events", o.ticks, o.messages, view.events.len())),
    ];
    if let Some(cmd) = &view.reproduce {
        facts.push(("reproduce", format!("<code>{}</code>", esc(cmd))));
    }
    for r in &view.remarks {
        facts.push(("note", esc(r)));
    }
    for id in &view.named {
        let states = view.states(*id);
        let history = if states.is_empty() {
            "no state changes".to_owned()
        } else {
            states.iter().map(|(t, s)| format!("{s} t{t}")).collect::<Vec<_>>().join(" \u{2192} ")
        };
        facts.push(("named", format!("<span class=\"mono\">{}</span>: {}", esc(view.name(*id)), esc(&history))));
    }
    if !view.focus.is_empty() {
        let ids: Vec<&str> = view.focus.iter().map(|id| view.name(*id)).collect();
        facts.push((
            "focus",
            esc(&format!("{} ({} of {} events)", ids.join(", "), view.shown.len(), view.events.len())),
        ));
    }
    if skipped > 0 {
        facts.push((
            "shown",
            esc(&format!(
                "the last {MAX_EVENTS} events; {skipped} earlier ones are left out (--focus ID narrows the view)"
            )),
        ));
    }
    for (k, v) in facts {
        let _ = writeln!(out, "<tr><th>{k}</th><td>{v}</td></tr>");
    }
    out.push_str("</table>\n");
    out.push_str(concat!(
        "<p class=\"legend\">",
        "<span><i class=\"sw wire\"></i>envelope, send to delivery</span>",
        "<span><i class=\"sw fault\"></i>duplicated</span>",
        "<span><i class=\"sw held\"></i>held / dropped (\u{2715})</span>",
        "<span><i class=\"dot act\"></i>scripted act</span>",
        "<span><i class=\"dot call\"></i>call</span>",
        "<span><i class=\"dot state\"></i>state</span>",
        "<span><i class=\"dot note\"></i>note</span>",
        "<span><i class=\"dot viol\"></i>violation</span>",
        "<span>hover an arrow or mark for the message</span>",
        "</p>\n"
    ));
    if has_violation {
        let _ = writeln!(out, r##"<p><a href="#{VIOLATION_ID}">Jump to the violation &#8595;</a></p>"##);
    }
    out.push_str("</header>\n");
}

#[allow(clippy::too_many_arguments)]
fn send(
    view: &View,
    i: usize,
    e: &Event,
    x: u64,
    y: u64,
    to: Option<u64>,
    row_of: &BTreeMap<usize, u64>,
    arrows: &mut String,
) {
    let to = to.unwrap_or(x);
    // The message's name beside the send, on the side it goes to; it shares the arrow's
    // <title>, so hovering either shows the message.
    let (lx, anchor) = if to < x { (x - 5, "end") } else { (x + 5, "start") };
    let lclass = if e.kind.is_fault() { "mf" } else { "mw" };
    let label = format!(
        r#"<text class="{lclass}" x="{lx}" y="{}" text-anchor="{anchor}">{} #{}</text>"#,
        y - 3,
        esc(e.what),
        e.env
    );
    let delivered = view.links.partner(i);
    let title = envelope_title(view, Some(e), delivered.map(|d| &view.events[d]));
    let (class, marker, dot) = match e.kind {
        EventKind::Send => ("w", "aw", "dw"),
        EventKind::Duplicate => ("f", "af", "df"),
        _ => ("f held", "af", "df"),
    };
    if e.kind == EventKind::Drop {
        // Lost on the way: a dashed stub halfway to the receiver, ending in a cross.
        let x2 = if to == x { x + 30 } else { (x + to) / 2 };
        let _ = writeln!(
            arrows,
            r#"<g class="e"><title>{}</title><line class="hit" x1="{x}" y1="{y}" x2="{x2}" y2="{}"/><line class="f held" x1="{x}" y1="{y}" x2="{x2}" y2="{}" marker-start="url(#df)"/><text class="x" x="{}" y="{}">&#10005;</text>{label}</g>"#,
            esc(&title),
            y + ROW_H,
            y + ROW_H,
            x2 - 4,
            y + ROW_H + 5
        );
        return;
    }
    let Some(y2) = delivered.and_then(|d| row_of.get(&d)).copied() else {
        // Still in flight when the run ended (or delivered past the events drawn).
        let x2 = if to == x { x + 30 } else { (x + to) / 2 };
        let _ = writeln!(
            arrows,
            r#"<g class="e"><title>{}</title><line class="{class} held" x1="{x}" y1="{y}" x2="{x2}" y2="{}" marker-start="url(#{dot})"/>{label}</g>"#,
            esc(&title),
            y + 2 * ROW_H
        );
        return;
    };
    let path = if to == x {
        format!("M{x},{y} C{},{y} {},{y2} {x},{y2}", x + 40, x + 40)
    } else {
        format!("M{x},{y} L{to},{y2}")
    };
    let _ = writeln!(
        arrows,
        r#"<g class="e"><title>{}</title><path class="hit" d="{path}"/><path class="{class}" d="{path}" marker-start="url(#{dot})" marker-end="url(#{marker})"/>{label}</g>"#,
        esc(&title)
    );
}

fn mark(view: &View, e: &Event, x: u64, y: u64, marks: &mut String) {
    // One <text> per mark, its glyph the marker, so a big trace stays a few elements per event.
    let (glyph, class) = match e.kind {
        EventKind::Act => ('\u{25c6}', "act"),
        EventKind::State if view.is_named_state(e) => ('\u{25a0}', "state named"),
        EventKind::State => ('\u{25a0}', "state"),
        EventKind::Note => ('\u{25cf}', "note"),
        _ => ('\u{25cf}', "call"),
    };
    // A call is known by its grey dot, so its label starts with its name; the arguments
    // follow as far as there is room (all of them are in the title).
    let mut label = if e.kind == EventKind::Call { e.what.to_owned() } else { format!("{} {}", e.kind.name(), e.what) };
    let args = args_text(view, e);
    if !args.is_empty() {
        label.push(' ');
        label.push_str(&args);
    }
    let short = if label.chars().count() > LABEL_MAX {
        label.chars().take(LABEL_MAX - 1).collect::<String>() + "\u{2026}"
    } else {
        label
    };
    let _ = writeln!(
        marks,
        r#"<text class="{class}" x="{}" y="{}"><title>{}</title>{glyph} {}</text>"#,
        x - 4,
        y + 4,
        esc(&event_title(view, e)),
        esc(&short)
    );
}

/// A violation's band; the verdict's own (the run's first break) carries the element id.
#[allow(clippy::too_many_arguments)]
fn violation(view: &View, e: &Event, y: u64, width: u64, x: Option<u64>, first: bool, marks: &mut String) {
    let id = if first { format!(r#" id="{VIOLATION_ID}""#) } else { String::new() };
    let text = format!("tick {}: VIOLATION {}: {}", e.tick, e.what, e.detail.as_deref().unwrap_or(""));
    let dot = x.map(|x| format!(r##"<circle cx="{x}" cy="{y}" r="5" fill="#c4001a"/>"##)).unwrap_or_default();
    let _ = writeln!(
        marks,
        r#"<g class="violation"{id}><title>{}</title><rect x="2" y="{}" width="{}" height="{}"/>{dot}<text x="{}" y="{}">{}</text></g>"#,
        esc(&event_title(view, e)),
        y - ROW_H / 2 - 2,
        width - 4,
        ROW_H * 2 + 4,
        GUTTER,
        y + ROW_H + 4,
        esc(&text)
    );
}

fn envelope_title(view: &View, sent: Option<&Event>, delivered: Option<&Event>) -> String {
    let Some(e) = sent.or(delivered) else { return String::new() };
    let (from, to) = if sent.is_some() { (e.actor, e.other) } else { (e.other, e.actor) };
    let mut s = format!("{} #{}: {} \u{2192} {}", e.what, e.env, view.name(from), view.name(to));
    if let Some(sent) = sent {
        let _ = write!(s, ", sent at tick {}", sent.tick);
        match sent.kind {
            EventKind::Drop => s.push_str(", DROPPED"),
            EventKind::Duplicate => s.push_str(" (a DUPLICATE copy)"),
            EventKind::Hold => {
                let _ = write!(s, ", HELD by a cut link until tick {}", sent.due);
            }
            _ => {}
        }
    }
    match delivered {
        Some(d) => {
            let _ = write!(s, ", delivered at tick {}", d.tick);
            if let Some(sent) = sent {
                let _ = write!(s, " ({} ticks later)", d.tick - sent.tick);
            }
        }
        None if sent.is_some_and(|s| s.kind != EventKind::Drop) => s.push_str(", still in flight at the end"),
        None => {}
    }
    let args = args_text(view, e);
    if !args.is_empty() {
        let _ = write!(s, "\n{args}");
    }
    s
}

fn event_title(view: &View, e: &Event) -> String {
    let mut s = format!("tick {}: {} {} {}", e.tick, view.name(e.actor), e.kind.name(), e.what);
    if !e.other.is_none() {
        let _ = write!(s, " ({})", view.name(e.other));
    }
    let args = args_text(view, e);
    if !args.is_empty() {
        let _ = write!(s, "\n{args}");
    }
    if let Some(d) = &e.detail {
        let _ = write!(s, "\n{d}");
    }
    s
}

fn args_text(view: &View, e: &Event) -> String {
    e.args.iter().map(|(k, v)| format!("{k}={}", val_text(v, view.names))).collect::<Vec<_>>().join(" ")
}

/// `s` escaped for HTML text and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are parse errors in HTML and invisible: show them as escapes.
            c if c.is_control() && c != '\n' && c != '\t' => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}
