//! Every scenario error names the file, line and column, and what was expected.

use racelab::engine::Registry;
use racelab::scenario::Expected;
use racelab::scenario::Scenario;

fn err(text: &str) -> String {
    match Scenario::parse(&Registry::builtin(), "bad.toml", text) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => format!("{}:{}:{}: {}", e.file, e.line, e.column, e.message),
    }
}

const HEAD: &str = "name = \"t\"\nmodel = \"signaling\"\n";

#[test]
fn invalid_toml_keeps_the_parser_location() {
    let e = err("name = \"t\"\nmodel = \n");
    assert!(e.starts_with("bad.toml:2:"), "{e}");
    assert!(e.contains("invalid TOML"), "{e}");
}

#[test]
fn missing_name_and_unknown_model() {
    assert_eq!(err("model = \"signaling\"\n"), "bad.toml:1:1: missing required field `name`");
    let e = err("name = \"t\"\nmodel = \"webrtc\"\n");
    assert!(e.starts_with("bad.toml:2:9: unknown model `webrtc`; expected one of: signaling"), "{e}");
}

#[test]
fn unknown_top_level_field_lists_the_allowed_ones() {
    let e = err(&format!("{HEAD}max_tick = 5\n"));
    assert!(
        e.starts_with("bad.toml:3:1: unknown field `max_tick` in the scenario; expected one of: name, model"),
        "{e}"
    );
    assert!(e.contains("signaling"), "the model's own section is allowed: {e}");
}

#[test]
fn unknown_variant() {
    let e = err(&format!("{HEAD}variants = [\"flag_callback\", \"flag\"]\n"));
    assert_eq!(
        e,
        "bad.toml:3:30: unknown variant `flag` of model `signaling`; expected one of: flag_callback, per_peer_map, stream, version_token, shipped_stream, injected_client, request_map, state_machine, dispose_unawaited"
    );
}

#[test]
fn unknown_step_lists_the_model_steps() {
    let e = err(&format!("{HEAD}[[step]]\nat = 1\ndo = \"conect\"\npeer = \"P1\"\n"));
    assert_eq!(
        e,
        "bad.toml:5:6: unknown step `conect` for model `signaling`; expected one of: enable_external, disable_external, connect, disconnect, dispose, switch_server, fail_peer, network_change, reconnect_loop"
    );
}

#[test]
fn unknown_step_field_and_missing_field() {
    let e = err(&format!("{HEAD}[[step]]\nat = 1\ndo = \"connect\"\npear = \"P1\"\n"));
    assert_eq!(e, "bad.toml:6:1: unknown field `pear` in step `connect`; expected one of: at, do, peer");
    let e = err(&format!("{HEAD}[[step]]\nat = 1\ndo = \"connect\"\n"));
    assert_eq!(e, "bad.toml:3:1: step `connect` needs a `peer` field");
    let e = err(&format!("{HEAD}[[step]]\nat = 1\ndo = \"connect\"\npeer = 3\n"));
    assert_eq!(e, "bad.toml:6:8: `peer` must be a string, found an integer");
}

#[test]
fn window_with_start_after_end() {
    let e = err(&format!("{HEAD}[[step]]\nat = [80, 20]\ndo = \"dispose\"\n"));
    assert_eq!(
        e,
        "bad.toml:4:6: `at` is the window [80, 20], whose start is after its end; expected [a, b] with a <= b"
    );
}

#[test]
fn step_after_max_ticks() {
    let e = err(&format!("{HEAD}max_ticks = 100\n[[step]]\nat = [50, 150]\ndo = \"dispose\"\n"));
    assert_eq!(e, "bad.toml:5:6: step at tick 150 is after max_ticks = 100; expected a tick <= 100");
}

#[test]
fn faults_are_checked() {
    let e = err(&format!("{HEAD}[faults]\ndrop = 1.5\n"));
    assert_eq!(e, "bad.toml:4:8: `drop` must be between 0.0 and 1.0, found 1.5");
    let e = err(&format!("{HEAD}[faults]\ndelai = [1, 2]\n"));
    assert!(e.starts_with("bad.toml:4:1: unknown field `delai` in `[faults]`; expected one of: delay"), "{e}");
    let e = err(&format!("{HEAD}max_ticks = 100\n[faults]\nheal_at = 500\n"));
    assert_eq!(e, "bad.toml:5:11: `heal_at` = 500 is after max_ticks = 100");
}

#[test]
fn expectations_are_checked() {
    let e = err(&format!("{HEAD}[[expect]]\nvariant = \"stream\"\nviolates = \"no_such_thing\"\n"));
    assert!(
        e.starts_with("bad.toml:5:12: unknown invariant `no_such_thing`; expected one of: no_send_on_disposed_client"),
        "{e}"
    );
    let e = err(&format!("{HEAD}[[expect]]\nvariant = \"streams\"\nholds = true\n"));
    assert!(e.starts_with("bad.toml:4:11: unknown variant `streams`"), "{e}");
    let e = err(&format!("{HEAD}[[expect]]\nvariant = \"stream\"\n"));
    assert_eq!(
        e,
        "bad.toml:3:1: `[[expect]]` needs exactly one of `holds = true`, `violates = [...]` (exactly these break) or `includes = [...]` (at least these break)"
    );
}

#[test]
fn model_section_is_checked() {
    let e = err(&format!("{HEAD}[signaling]\nawait = [0, 3]\n"));
    assert_eq!(
        e,
        "bad.toml:4:9: `await` must start at 1: awaited I/O resumes on a later tick (an already-complete future is `microtask`)"
    );
    let e = err(&format!("{HEAD}[signaling]\nice = 3\n"));
    assert!(e.starts_with("bad.toml:4:1: unknown field `ice` in `[signaling]`; expected one of: await"), "{e}");
}

#[test]
fn display_shows_the_line_and_a_caret() {
    let e = Scenario::parse(
        &Registry::builtin(),
        "bad.toml",
        &format!("{HEAD}[[step]]\nat = [80, 20]\ndo = \"dispose\"\n"),
    )
    .unwrap_err();
    let shown = e.to_string();
    assert!(shown.contains("4 | at = [80, 20]"), "{shown}");
    assert!(shown.lines().last().is_some_and(|l| l.trim_end().ends_with('^')), "{shown}");
}

#[test]
fn a_very_long_line_is_shown_as_a_window_around_the_column() {
    // 70,000 characters: more than a format width may be; the error must still render.
    let text = format!("name = \"x\"\nmodel = \"signaling\"\nabout = \"{}\" junk\n", "a".repeat(70_000));
    let e = Scenario::parse(&Registry::builtin(), "long.toml", &text).unwrap_err();
    let shown = e.to_string();
    assert!(shown.starts_with("long.toml:3:"), "{}", &shown[..200.min(shown.len())]);
    assert!(shown.len() < 1_000, "the snippet is cut to a window: {} bytes", shown.len());
    let lines: Vec<&str> = shown.lines().collect();
    let at = |line: &str, c: char| line.chars().position(|x| x == c);
    let caret = at(lines[3], '^').expect("a caret");
    let junk = at(lines[2], 'j').expect("the offending text is in the window");
    assert_eq!(caret, junk, "{shown}");
}

#[test]
fn a_missing_file_is_an_error_not_a_panic() {
    let e = Scenario::load(&Registry::builtin(), "no/such/file.toml").unwrap_err();
    assert!(e.message.starts_with("cannot read the file"), "{}", e.message);
}

#[test]
fn the_readme_scenario_example_parses() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    // The block of the "Scenario files" section (the first screen's race has its own test).
    let section = readme.find("\n## Scenario files\n").expect("the section");
    let start = section + readme[section..].find("```toml\n").expect("a toml block") + "```toml\n".len();
    let end = start + readme[start..].find("```").expect("closed");
    let s = Scenario::parse(&Registry::builtin(), "README.md", &readme[start..end]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.variants, ["flag_callback", "per_peer_map", "shipped_stream"]);
    assert_eq!(s.faults.partitions.len(), 1);
    let expected: Vec<_> = s.expects.iter().map(|e| e.expected.clone()).collect();
    assert!(
        matches!(&expected[..], [Expected::Violates(v), Expected::Includes(i), Expected::Holds] if v.len() == 2 && i.len() == 1)
    );
    assert_eq!(s.seeds, 0..300);
}
