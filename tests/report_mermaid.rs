//! The Mermaid diagrams `racelab explain --format mermaid` writes are valid.
//!
//! Two checks. `structure`: every line is one of the few statement forms the renderer emits
//! (participant declarations under plain aliases, arrows between declared aliases, notes,
//! `rect`/`end` pairs), and no text holds a character Mermaid's sequence lexer stops at or
//! its sanitiser eats, except as a well-formed entity code. `renders_with_mermaid`: the
//! diagrams, pasted into one Markdown file as ```mermaid blocks, go through Mermaid itself
//! (`mmdc` from `tools/mermaid`, the npm package `@mermaid-js/mermaid-cli`, driving Debian's
//! chromium headless); it fails if any block does not parse and render, and the rendered SVG
//! must show the ids with their `:` and `#` intact.

mod report_support;

use racelab::engine::trace::{Args, Event, EventKind};
use racelab::engine::{Names, Outcome, Trace, TraceLevel, Verdict};
use racelab::report::mermaid::{self, MAX_ITEMS};
use racelab::report::view::View;
use report_support::{CASES, first_failure, scenario, synthetic};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Ids with every character that troubles Mermaid.
fn awkward() -> (Trace, Names, Outcome) {
    let mut names = Names::default();
    let a = names.intern("peer:P1#2");
    let b = names.intern("a;b%%c<d>\"e&f end");
    let c = names.intern("wrap:x-y->>z");
    let mut trace = Trace::default();
    trace.reset(TraceLevel::Full);
    trace.push(&names, Event::new(0, EventKind::Act, a, "connect").other(b));
    trace.push(&names, Event { env: 1, due: 3, ..Event::new(1, EventKind::Send, a, "offer").other(b) });
    trace.push(&names, Event { env: 2, due: 9, ..Event::new(1, EventKind::Hold, b, "answer").other(c) });
    trace.push(&names, Event { env: 3, ..Event::new(2, EventKind::Drop, c, "bye").other(a) });
    trace.push(&names, Event { env: 1, ..Event::new(3, EventKind::Deliver, b, "offer").other(a) });
    trace.push(&names, Event::new(4, EventKind::State, c, "closed").args(Args::EMPTY.id("peer", a).s("why", "x;y")));
    trace.push(&names, Event { env: 4, due: 20, ..Event::new(5, EventKind::Duplicate, a, "ping").other(c) });
    trace.push(&names, Event { env: 2, ..Event::new(9, EventKind::Deliver, c, "answer").other(b) });
    let mut v = Event::new(9, EventKind::Violation, c, "no_send_after_close");
    v.detail = Some("sent #3; 100% <bad> \"quoted\" & more: yes".into());
    trace.push(&names, v);
    let outcome = Outcome {
        violations: Vec::new(),
        halted: None,
        scenario: "awkward".into(),
        variant: "ids".into(),
        seed: 0,
        verdict: Verdict::Violation {
            invariant: "no_send_after_close".into(),
            tick: 9,
            detail: "x".into(),
            ids: vec!["wrap:x-y->>z".into(), "peer:P1#2".into()],
        },
        ticks: 9,
        messages: 4,
        trace_hash: format!("{:016x}", trace.hash()),
        metrics: BTreeMap::new(),
    };
    (trace, names, outcome)
}

/// (name, diagram, ids that must appear in the rendering) for every case checked.
fn diagrams() -> Vec<(String, String, Vec<String>)> {
    let mut out = Vec::new();
    for &(name, variant, invariant) in CASES {
        let s = scenario(name);
        let (sim, o) = first_failure(&s, variant, invariant, s.seeds.clone());
        let view = View::new(sim.trace().events(), sim.names(), &o);
        // Every id the verdict names is drawn as a participant.
        let ids = match &o.verdict {
            Verdict::Violation { ids, .. } => ids.clone(),
            v => panic!("{name}: {v:?}"),
        };
        out.push((format!("{name} / {variant}"), mermaid::render(&view), ids));
    }
    let (t, n, o) = awkward();
    let ids = vec!["peer:P1#2".to_owned(), "wrap:x-y->>z".to_owned(), "a;b%%c<d>\"e&f end".to_owned()];
    out.push(("awkward ids".to_owned(), mermaid::render(&View::new(t.events(), &n, &o)), ids));
    let (t, n, o) = synthetic(5_000);
    out.push(("5,000 events".to_owned(), mermaid::render(&View::new(t.events(), &n, &o)), vec!["node:1#3".to_owned()]));
    out
}

/// Text after `: ` or `as `: no raw `#`, `;`, `%`, `<`, `>`, `&`, `"`, `:`, and every `#`
/// starts an entity code `#<digits>;`.
fn check_text(t: &str, line: &str) {
    assert!(!t.trim().is_empty(), "empty text: {line}");
    for c in [';', '%', '<', '>', '&', '"', ':', '\n'] {
        let without_entities: String = strip_entities(t, line);
        assert!(!without_entities.contains(c), "raw `{c}` in text: {line}");
    }
}

fn strip_entities(t: &str, line: &str) -> String {
    let mut out = String::new();
    let mut rest = t;
    while let Some(k) = rest.find('#') {
        out.push_str(&rest[..k]);
        let after = &rest[k + 1..];
        let digits = after.chars().take_while(|c| c.is_ascii_digit()).count();
        assert!(digits > 0 && after[digits..].starts_with(';'), "bare `#` in text: {line}");
        rest = &after[digits + 1..];
    }
    out.push_str(rest);
    out
}

fn is_alias(s: &str) -> bool {
    s.len() > 1 && s.starts_with('A') && s[1..].chars().all(|c| c.is_ascii_digit())
}

fn structure(name: &str, d: &str) {
    assert!(d.len() < 50_000, "{name}: {} characters is over Mermaid's default maxTextSize", d.len());
    let mut lines = d.lines();
    assert_eq!(lines.next(), Some("sequenceDiagram"), "{name}");
    let mut declared = BTreeSet::new();
    let mut depth = 0usize;
    let mut items = 0usize;
    for line in lines {
        let l = line.strip_prefix("    ").unwrap_or_else(|| panic!("{name}: not indented: {line}"));
        if l.starts_with("%% ") {
            continue;
        }
        if let Some(rest) = l.strip_prefix("participant ") {
            let (alias, label) = rest.split_once(" as ").unwrap_or_else(|| panic!("{name}: {line}"));
            assert!(is_alias(alias) && declared.insert(alias.to_owned()), "{name}: {line}");
            assert!(items == 0, "{name}: participants come first: {line}");
            check_text(label, line);
        } else if let Some(rest) = l.strip_prefix("Note over ") {
            let (over, t) = rest.split_once(": ").unwrap_or_else(|| panic!("{name}: {line}"));
            for a in over.split(',') {
                assert!(declared.contains(a), "{name}: undeclared {a}: {line}");
            }
            check_text(t, line);
            items += 1;
        } else if l.starts_with("rect rgb(") && l.ends_with(')') {
            depth += 1;
        } else if l == "end" {
            assert!(depth > 0, "{name}: `end` without `rect`");
            depth -= 1;
        } else {
            let (head, t) = l.split_once(": ").unwrap_or_else(|| panic!("{name}: unknown statement: {line}"));
            let arrow = ["-->>", "->>", "--x", "--)"]
                .iter()
                .find(|a| head.contains(**a))
                .unwrap_or_else(|| panic!("{name}: {line}"));
            let (from, to) = head.split_once(arrow).expect("arrow");
            assert!(declared.contains(from) && declared.contains(to), "{name}: undeclared end: {line}");
            check_text(t, line);
            items += 1;
        }
    }
    assert_eq!(depth, 0, "{name}: unbalanced rect");
    assert!(items <= MAX_ITEMS + 1, "{name}: {items} items");
    assert!(!declared.is_empty(), "{name}");
}

#[test]
fn every_line_is_a_statement_mermaid_accepts() {
    for (name, d, _) in diagrams() {
        structure(&name, &d);
    }
    let (t, n, o) = synthetic(5_000);
    let d = mermaid::render(&View::new(t.events(), &n, &o));
    assert!(d.contains("earlier arrows and notes not shown"), "a long run says what it left out");
    assert!(d.contains("VIOLATION no_send_after_close"), "and keeps the violation");
}

fn mmdc() -> PathBuf {
    if let Ok(p) = std::env::var("RACELAB_MMDC")
        && Path::new(&p).exists()
    {
        return PathBuf::from(p);
    }
    let local = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/mermaid/node_modules/.bin/mmdc");
    assert!(
        local.exists(),
        "this test renders the diagrams with Mermaid itself and needs its CLI: install it with \
         `(cd tools/mermaid && PUPPETEER_SKIP_DOWNLOAD=1 npm ci)` (Node.js and npm), and Debian's \
         chromium (`apt-get install -y chromium`); or point RACELAB_MMDC at an mmdc"
    );
    local
}

#[test]
fn renders_with_mermaid() {
    let mmdc = mmdc();
    let chromium = ["/usr/bin/chromium".to_owned(), std::env::var("RACELAB_CHROMIUM").unwrap_or_default()]
        .into_iter()
        .rev()
        .find(|p| !p.is_empty() && Path::new(p).exists())
        .expect("Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)");
    let dir = std::env::temp_dir().join(format!("racelab-mermaid-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let config = serde_json::json!({
        "executablePath": chromium,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"],
    });
    std::fs::write(dir.join("puppeteer.json"), config.to_string()).expect("writes");
    let cases = diagrams();
    let mut md = String::from("# racelab explain --format mermaid\n\n");
    for (name, d, _) in &cases {
        md.push_str(&format!("## {name}\n\n```mermaid\n{d}```\n\n"));
    }
    std::fs::write(dir.join("doc.md"), md).expect("writes");
    let out = Command::new(&mmdc)
        .current_dir(&dir)
        .args(["-p", "puppeteer.json", "-i", "doc.md", "-o", "out.md"])
        .output()
        .expect("mmdc runs");
    let log = format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "Mermaid rejected a diagram:\n{log}");
    for (k, (name, _, ids)) in cases.iter().enumerate() {
        let svg = std::fs::read_to_string(dir.join(format!("out-{}.svg", k + 1)))
            .unwrap_or_else(|e| panic!("{name}: no SVG rendered ({e}):\n{log}"));
        for id in ids {
            // The SVG is XML: the text shows `<`, `>` and `&` as entities.
            let shown = id.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
            assert!(svg.contains(&shown), "{name}: the rendering does not show `{id}`");
        }
    }
}
