//! The `racelab` binary end to end: run, replay, list, and bad input.

use std::path::PathBuf;

mod support;
use support::{racelab, temp_dir, text, unclocked};

#[test]
fn run_checks_expectations_and_exits_zero() {
    let o = racelab(&["run", "scenarios/dispose_during_ice.toml", "--seeds", "0..60"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    let lines: Vec<&str> = out.lines().collect();
    let at = lines.iter().position(|l| l.trim_start().starts_with("flag_callback")).expect("a line per variant");
    assert!(lines[at].contains("FAIL") && lines[at].contains("as expected: violates"), "{out}");
    assert!(lines[at + 1].contains("no_candidate_for_removed_connection"), "the failures follow: {out}");
    let at = lines.iter().position(|l| l.trim_start().starts_with("shipped_stream")).expect("the shipped fix's line");
    assert!(lines[at].contains("FAIL ") && lines[at].contains("as expected: violates"), "{out}");
    assert!(
        lines[at + 1].contains("no_connection_outlives_dispose")
            && !lines[at + 1].contains("no_candidate_for_removed_connection"),
        "{out}"
    );
    assert!(
        out.contains("see the race: racelab run scenarios/dispose_during_ice.toml --variant flag_callback --seed"),
        "{out}"
    );
}

#[test]
fn one_seed_prints_the_timeline_up_to_the_violation() {
    // The summary names the first seed of each failing invariant; run that one alone.
    let o = racelab(&["run", "scenarios/rapid_reconnect.toml", "--variant", "flag_callback", "--format", "jsonl"]);
    let (out, _) = text(&o);
    let summary: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON line");
    let seed = summary["failures"]["enable_keeps_its_client"]["first_seed"].as_u64().expect("a first seed").to_string();
    let o = racelab(&["run", "scenarios/rapid_reconnect.toml", "--variant", "flag_callback", "--seed", &seed]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(0));
    let head = format!("rapid_reconnect / flag_callback / seed {seed}: violates enable_keeps_its_client");
    assert!(out.starts_with(&head), "{out}");
    // The run goes on past its first violation: every break is marked, the timeline ends at
    // the last one, and the header names the later ones.
    assert!(out.lines().any(|l| l.starts_with(">>") && l.contains("violation enable_keeps_its_client")), "{out}");
    assert!(out.lines().last().is_some_and(|l| l.starts_with(">>")), "{out}");
    assert!(out.contains("the run went on and also broke: connect_settles at tick"), "{out}");
    let jsonl = racelab(&[
        "run",
        "scenarios/rapid_reconnect.toml",
        "--variant",
        "flag_callback",
        "--seed",
        &seed,
        "--format",
        "jsonl",
    ]);
    let (out, _) = text(&jsonl);
    for line in out.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }
    assert!(out.lines().last().is_some_and(|l| l.contains("\"verdict\"")));
}

#[test]
fn an_unmet_expectation_exits_one_and_shows_the_failure() {
    let dir = temp_dir("unmet");
    let file = dir.join("wrong.toml");
    let text_in = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/dispose_during_ice.toml"))
        .expect("reads")
        .replace(
            "violates = [\"no_candidate_for_removed_connection\", \"no_connection_outlives_dispose\"]",
            "holds = true",
        )
        .replace("violates = \"no_connection_outlives_dispose\"", "violates = \"no_callback_leak\"");
    std::fs::write(&file, text_in).expect("writes");
    let o = racelab(&["run", file.to_str().expect("utf8"), "--seeds", "0..12"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
    assert!(out.contains("UNEXPECTED: expected to hold"), "{out}");
    // Both ways an exact expectation can break: the named invariant never failed, and
    // another did.
    assert!(out.contains("UNEXPECTED: expected exactly no_callback_leak to fail, but "), "{out}");
    assert!(out.contains("also failed no_connection_outlives_dispose"), "{out}");
    assert!(out.contains("first unexpected failure:"), "{out}");
}

#[test]
fn saved_failure_replays_exactly() {
    let dir = temp_dir("replay");
    let o = racelab(&[
        "run",
        "scenarios/server_switch.toml",
        "--variant",
        "flag_callback",
        "--seeds",
        "0..10",
        "--save-failures",
        dir.to_str().expect("utf8"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let saved: Vec<PathBuf> = std::fs::read_dir(&dir).expect("dir").map(|e| e.expect("entry").path()).collect();
    assert_eq!(saved.len(), 1, "{saved:?}");
    let r = racelab(&["replay", saved[0].to_str().expect("utf8")]);
    let (out, err) = text(&r);
    assert_eq!(r.status.code(), Some(0), "{out}\n{err}");
    assert!(err.contains("replayed exactly"), "{err}");
    assert!(out.lines().last().is_some_and(|l| l.starts_with(">>")), "{out}");

    // A doctored tape is caught, not silently replayed.
    let mut failure: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&saved[0]).expect("reads")).expect("json");
    failure["tape"][2]["label"] = serde_json::Value::String("doctored".into());
    let doctored = dir.join("doctored.json");
    std::fs::write(&doctored, failure.to_string()).expect("writes");
    let r = racelab(&["replay", doctored.to_str().expect("utf8")]);
    let (out, err) = text(&r);
    assert_eq!(r.status.code(), Some(1), "{out}\n{err}");
    assert!(out.contains("replay diverged at choice 2"), "{out}");
}

#[test]
fn bad_input_is_a_located_error_and_exit_two() {
    let dir = temp_dir("bad");
    let file = dir.join("bad.toml");
    std::fs::write(&file, "name = \"x\"\nmodel = \"signaling\"\n[[step]]\nat = 1\ndo = \"explode\"\n").expect("writes");
    let o = racelab(&["run", file.to_str().expect("utf8")]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(err.contains("bad.toml:5:6: unknown step `explode` for model `signaling`; expected one of:"), "{err}");
    let o = racelab(&["replay", file.to_str().expect("utf8")]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(err.contains("not a racelab failure"), "{err}");
    let o = racelab(&["run", "scenarios/dispose_during_ice.toml", "--seeds", "9..3"]);
    assert_eq!(o.status.code(), Some(2));
    let o = racelab(&["run", "scenarios/dispose_during_ice.toml", "--variant", "nope"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn list_shows_models_variants_steps_invariants_and_scenarios() {
    let o = racelab(&["list"]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(0));
    for needle in [
        "model signaling",
        "shipped_stream",
        "switch_server {server}",
        "connect_settles",
        "scenarios/dispose_during_ice.toml",
    ] {
        assert!(out.contains(needle), "missing {needle}:\n{out}");
    }
}

#[test]
fn check_determinism_passes_on_every_shipped_scenario() {
    let mut files: Vec<String> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios"))
        .expect("scenarios")
        .map(|e| e.expect("entry").path().display().to_string())
        .filter(|p| p.ends_with(".toml"))
        .collect();
    files.sort();
    let mut args = vec!["run", "--check-determinism", "--seeds", "0..3"];
    args.extend(files.iter().map(String::as_str));
    let o = racelab(&args);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    assert!(!out.contains("NOT DETERMINISTIC"), "{out}");
    assert!(out.lines().filter(|l| l.contains(": deterministic: 3 seeds")).count() > 100, "{out}");
}

/// A fenced block of the README: the one after the first line that starts with `after`.
fn readme_block(readme: &str, after: &str) -> String {
    let at = readme.find(after).unwrap_or_else(|| panic!("README has {after:?}"));
    let open = at + readme[at..].find("```").expect("a block");
    let body = open + readme[open..].find('\n').expect("its fence line") + 1;
    let end = body + readme[body..].find("```").expect("closed");
    readme[body..end].to_owned()
}

#[test]
fn the_readme_first_screen_shows_a_real_race_and_what_run_prints_for_it() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    // The two set-up commands: racelab on a shipped scenario, then the test script.
    let setup = readme_block(&readme, "## Set up and run");
    let commands: Vec<&str> = setup.lines().collect();
    assert_eq!(commands.len(), 2, "{setup}");
    assert!(commands[0].starts_with("cargo run --release -- run scenarios/cookbook_double_submit.toml "), "{setup}");
    assert!(commands[1].starts_with("scripts/test "), "{setup}");
    // The race is the shipped file, whole.
    let file = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/cookbook_double_submit.toml"))
        .expect("the scenario");
    assert_eq!(readme_block(&readme, "## A race, its bug and its fix"), file);
    assert!(file.lines().count() <= 50, "a short race");
    // What the first command prints is what racelab prints for it now (but the clock).
    let shown = readme_block(&readme, "The first command above runs it and prints");
    let o = racelab(&["run", "scenarios/cookbook_double_submit.toml"]);
    assert_eq!(o.status.code(), Some(0), "the bug fails and the fix holds, as expected");
    assert_eq!(unclocked(&shown), unclocked(&text(&o).0));
}
