//! Bad SSE step fields and `[sse]` settings are reported at their line and column, saying
//! what was expected.

use racelab::engine::Registry;
use racelab::scenario::{Scenario, ScenarioError};

const HEAD: &str = "name = \"bad\"\nmodel = \"sse\"\n";

fn start(session: &str) -> String {
    format!("\n[[step]]\nat = 0\ndo = \"start_session\"\nsession = \"{session}\"\n")
}

fn err(text: &str) -> ScenarioError {
    match Scenario::parse(&Registry::builtin(), "bad.toml", text) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e,
    }
}

/// Line and column (1-based) of the first occurrence of `needle` in the last step (or
/// section) of `text`.
fn at(text: &str, needle: &str) -> (usize, usize) {
    let from = text.rfind("\n[").unwrap_or(0);
    let i = from + text[from..].find(needle).unwrap_or_else(|| panic!("`{needle}` in text"));
    let line = text[..i].matches('\n').count() + 1;
    let col = i - text[..i].rfind('\n').map_or(0, |n| n + 1) + 1;
    (line, col)
}

fn assert_located(text: &str, needle: &str, message: &str) {
    let e = err(text);
    assert_eq!(e.file, "bad.toml");
    assert_eq!((e.line, e.column), at(text, needle), "{e}");
    assert!(e.message.contains(message), "message `{}` should say `{message}`", e.message);
}

#[test]
fn a_good_file_parses() {
    let text = format!("{HEAD}{}\n[[step]]\nat = 1\ndo = \"burst\"\nsession = \"S1\"\ncount = 3\n", start("S1"));
    let s = Scenario::parse(&Registry::builtin(), "ok.toml", &text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.variants, ["try_send_drop", "send_timeout", "naive_retry_worker", "coalescing_worker", "caller_send"]);
}

#[test]
fn burst_count_must_be_a_positive_integer() {
    let text = format!("{HEAD}{}\n[[step]]\nat = 1\ndo = \"burst\"\nsession = \"S1\"\ncount = 0\n", start("S1"));
    assert_located(&text, "0\n", "`count` must be at least 1");
    let text = format!("{HEAD}{}\n[[step]]\nat = 1\ndo = \"burst\"\nsession = \"S1\"\ncount = \"many\"\n", start("S1"));
    assert_located(&text, "\"many\"", "`count` must be a non-negative integer, found a string");
    let text = format!("{HEAD}{}\n[[step]]\nat = 1\ndo = \"burst\"\nsession = \"S1\"\ncount = -4\n", start("S1"));
    assert_located(&text, "-4", "must not be negative");
}

#[test]
fn missing_fields_point_at_the_step() {
    let text = format!("{HEAD}{}\n[[step]]\nat = 1\ndo = \"burst\"\nsession = \"S1\"\n", start("S1"));
    let e = err(&text);
    assert!(e.message.contains("step `burst` needs a `count` field"), "{e}");
    let text = format!("{HEAD}\n[[step]]\nat = 0\ndo = \"disconnect\"\n");
    let e = err(&text);
    assert!(e.message.contains("needs a `session` field"), "{e}");
    let text = format!("{HEAD}\n[[step]]\nat = 0\ndo = \"stall_store\"\n");
    assert!(err(&text).message.contains("needs a `ticks` field"));
}

#[test]
fn unknown_fields_list_what_the_step_takes() {
    let text = format!("{HEAD}{}\n[[step]]\nat = 1\ndo = \"reconnect\"\nsession = \"S1\"\nlast_id = 4\n", start("S1"));
    assert_located(&text, "last_id", "unknown field `last_id` in step `reconnect`; expected one of: at, do, session");
    let text = format!("{HEAD}\n[[step]]\nat = 1\ndo = \"close_worker\"\nsession = \"S1\"\n");
    assert_located(&text, "session", "unknown field `session` in step `close_worker`; expected one of: at, do");
}

#[test]
fn sessions_must_be_started_exactly_once() {
    let text = format!("{HEAD}{}\n[[step]]\nat = 1\ndo = \"restart\"\nsession = \"S2\"\n", start("S1"));
    assert_located(&text, "\"S2\"", "session `S2` is never started; add a `start_session` step for it");
    let text = format!("{HEAD}{}{}", start("S1"), start("S1").replace("at = 0", "at = 5"));
    let e = err(&text);
    assert!(e.message.contains("session `S1` is started twice"), "{e}");
    assert_eq!((e.line, e.column), (12, 11), "{e}");
    let text = format!("{HEAD}{}", start("a:b"));
    assert_located(&text, "\"a:b\"", "must be a non-empty word");
    let text = format!("{HEAD}\n[[step]]\nat = 0\ndo = \"start_session\"\nsession = 7\n");
    assert_located(&text, "7", "`session` must be a string, found an integer");
}

#[test]
fn unknown_steps_list_the_models_steps() {
    let text = format!("{HEAD}\n[[step]]\nat = 0\ndo = \"crash\"\n");
    assert_located(
        &text,
        "\"crash\"",
        "unknown step `crash` for model `sse`; expected one of: start_session, burst, disconnect, reconnect, restart, stall_store, close_worker",
    );
}

#[test]
fn sse_section_values_are_checked() {
    let cases: &[(&str, &str, &str)] = &[
        ("window = \"hashed\"", "\"hashed\"", "unknown window `hashed`; expected one of: linear, indexed"),
        ("capacity = 0", "0", "`capacity` must be at least 1"),
        ("store_latency = [0, 3]", "[0, 3]", "`store_latency` must start at 1"),
        ("store_latency = [5, 3]", "[5, 3]", "whose start is after its end"),
        ("store_fail = 1.5", "1.5", "`store_fail` must be between 0.0 and 1.0"),
        ("max_tracked = \"lots\"", "\"lots\"", "`max_tracked` must be a non-negative integer"),
        ("retry_base = 50\nretry_max = 10", "10", "`retry_max` = 10 is below `retry_base` = 50"),
        ("batch = 0", "0", "`batch` must be at least 1"),
        ("windw = \"linear\"", "windw", "unknown field `windw` in `[sse]`; expected one of: window, max_tracked"),
    ];
    for (line, needle, message) in cases {
        let text = format!("{HEAD}\n[sse]\n{line}\n{}", start("S1"));
        let e = err(&text);
        let sse_at = text.find("[sse]").expect("section");
        let i = sse_at + text[sse_at..].find(needle).expect("needle after [sse]");
        let want_line = text[..i].matches('\n').count() + 1;
        let want_col = i - text[..i].rfind('\n').map_or(0, |n| n + 1) + 1;
        assert_eq!((e.line, e.column), (want_line, want_col), "{line}: {e}");
        assert!(e.message.contains(message), "{line}: `{}` should say `{message}`", e.message);
    }
    let text = format!("{HEAD}sse = 3\n{}", start("S1"));
    let e = err(&text);
    assert_eq!((e.line, e.column), (3, 7), "{e}");
    assert!(e.message.contains("`sse` must be a table"), "{e}");
}

#[test]
fn expectations_name_sse_invariants() {
    let text = format!("{HEAD}{}\n[[expect]]\nvariant = \"send_timeout\"\nviolates = \"no_leak\"\n", start("S1"));
    let e = err(&text);
    assert!(e.message.contains("unknown invariant `no_leak`"), "{e}");
    assert!(e.message.contains("no_duplicate_delivery, no_silent_loss, persisted_id_monotonic"), "{e}");
}
