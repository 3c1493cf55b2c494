//! The `racelab-sockets` binary end to end: racelab's whole command line, driven on a model
//! that racelab itself does not ship. Every command a user would run on a race of their own:
//! run, the determinism self-check, sweep, shrink, replay, explain.

use racelab::prelude::*;
use racelab_custom_model::Sockets;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SCENARIO: &str = "scenarios/reconnect_close_race.toml";

/// Run the binary with `args` from this crate's folder; its exit code, stdout and stderr.
fn sockets(args: &[&str]) -> (Option<i32>, String, String) {
    let o: Output = Command::new(env!("CARGO_BIN_EXE_racelab-sockets"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs");
    (o.status.code(), String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

/// An empty scratch folder, unique to `name` and this process.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("racelab-sockets-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf8 path")
}

/// The seed `run` names in its "see the race" line for the first unexpected or expected failure.
fn seed_of_the_race(out: &str) -> String {
    let line = out.lines().find(|l| l.trim_start().starts_with("see the race:")).expect("a failing seed is named");
    // The printed command runs this binary, the one that knows the model.
    assert!(line.contains(&format!("racelab-sockets run {SCENARIO} --variant bug --seed ")), "{line}");
    let rest = line.split(" --seed ").nth(1).expect("a seed");
    rest.split(' ').next().expect("the seed").to_owned()
}

#[test]
fn run_meets_the_files_expectations() {
    let (code, out, err) = sockets(&["run", SCENARIO]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(out.starts_with("reconnect_close_race  (model sockets, seeds 0..300)"), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    let bug = lines.iter().position(|l| l.trim_start().starts_with("bug ")).expect("a line for bug");
    assert!(lines[bug].contains("FAIL") && lines[bug].contains("as expected: violates"), "{out}");
    for invariant in ["client_not_orphaned", "no_message_lost", "reconnect_completes"] {
        assert!(lines[bug + 1].contains(invariant), "{invariant} is listed under bug: {out}");
    }
    for fix in ["guard", "detach"] {
        let line = lines.iter().find(|l| l.trim_start().starts_with(fix)).expect("a line per variant");
        assert!(line.contains("pass 300/300") && line.contains("as expected: holds"), "{line}");
    }
    seed_of_the_race(&out);
}

#[test]
fn one_seed_shows_the_old_onclose_clearing_the_new_socket() {
    let (_, out, _) = sockets(&["run", SCENARIO]);
    let seed = seed_of_the_race(&out);
    let (code, out, err) = sockets(&["run", SCENARIO, "--variant", "bug", "--seed", &seed]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(
        out.starts_with(&format!("reconnect_close_race / bug / seed {seed}: violates client_not_orphaned")),
        "{out}"
    );
    // The old socket's callback runs after the new socket became current.
    let onclose = out.lines().position(|l| l.contains("socket#1") && l.contains("call onclose")).expect("onclose");
    let connect = out.lines().position(|l| l.contains("socket#2") && l.contains("state connecting")).expect("socket#2");
    assert!(connect < onclose, "{out}");
    assert!(out.lines().any(|l| l.starts_with(">>") && l.contains("violation client_not_orphaned")), "{out}");
    // The fix runs the same seed without a break.
    let (code, out, _) = sockets(&["run", SCENARIO, "--variant", "guard", "--seed", &seed]);
    assert_eq!(code, Some(0));
    assert!(out.starts_with(&format!("reconnect_close_race / guard / seed {seed}: pass")), "{out}");
}

#[test]
fn the_determinism_self_check_passes() {
    let (code, out, err) = sockets(&["run", "--check-determinism", "--seeds", "0..20", SCENARIO]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    for variant in ["bug", "guard", "detach"] {
        assert!(
            out.contains(&format!(
                "reconnect_close_race / {variant}: deterministic: 20 seeds run the same on a reused and a fresh simulation"
            )),
            "{out}"
        );
    }
}

#[test]
fn sweep_then_shrink_a_failure_it_found_then_replay_the_result() {
    let dir = temp_dir("sweep");
    let found = dir.join("failures.jsonl");
    let (code, out, err) = sockets(&["sweep", SCENARIO, "--seeds", "0..200", "--jobs", "2", "--out", s(&found)]);
    assert_eq!(code, Some(1), "failures found: exit 1\n{out}\n{err}");
    assert!(out.contains("sweep complete: 600 runs"), "{out}");
    let lines = std::fs::read_to_string(&found).expect("the sweep's output");
    assert!(!lines.trim().is_empty(), "{out}");
    // Only the bug fails: the fixes hold on every seed.
    for line in lines.lines() {
        assert!(line.contains("\"variant\":\"bug\""), "{line}");
    }

    let shrunk = dir.join("shrunk.json");
    let (code, out, err) = sockets(&["shrink", s(&found), "--line", "1", "--out", s(&shrunk)]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(out.contains("non-calm choices  "), "{out}");
    assert!(out.lines().any(|l| l.starts_with(">>")), "the shrunk run still breaks: {out}");

    let (code, out, err) = sockets(&["replay", s(&shrunk)]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(err.contains("replayed exactly"), "{err}");
}

#[test]
fn a_saved_failure_replays_exactly_and_explains_as_a_self_contained_html_report() {
    let (_, out, _) = sockets(&["run", SCENARIO]);
    let seed = seed_of_the_race(&out);
    let dir = temp_dir("saved");
    let (code, out, err) = sockets(&["run", SCENARIO, "--variant", "bug", "--seed", &seed, "--save-failures", s(&dir)]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    let saved = dir.join(format!("reconnect_close_race.bug.seed{seed}.json"));
    assert!(saved.exists(), "{err}");

    let (code, out, err) = sockets(&["replay", s(&saved)]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(err.contains("replayed exactly"), "{err}");
    assert!(out.lines().any(|l| l.starts_with(">>") && l.contains("client_not_orphaned")), "{out}");

    let html = dir.join("race.html");
    let (code, out, err) = sockets(&["explain", s(&saved), "--format", "html", "--out", s(&html)]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    let page = std::fs::read_to_string(&html).expect("the report was written");
    assert!(page.starts_with("<!DOCTYPE html>"), "an HTML document");
    assert!(page.contains("id=\"violation\"") && page.contains("client_not_orphaned"), "it shows the violation");
    assert!(page.contains("socket#2"), "it names the model's own ids");
    // Self-contained: it runs nothing and fetches nothing.
    assert!(!page.contains("<script"), "no script");
    for needle in ["src=", "<link", "@import", "url(http"] {
        assert!(!page.contains(needle), "fetches nothing: found {needle}");
    }
}

#[test]
fn list_shows_the_model_beside_the_shipped_ones() {
    let (code, out, _) = sockets(&["list"]);
    assert_eq!(code, Some(0));
    for needle in ["model sockets", "model signaling", "detach", "send {message}", "reconnect_completes"] {
        assert!(out.contains(needle), "missing {needle}:\n{out}");
    }
    // Run from this crate's folder, `list` finds this crate's scenarios.
    let listed = out.lines().find(|l| l.contains("scenarios/reconnect_close_race.toml")).expect("the scenario");
    assert!(listed.contains(" sockets "), "{listed}");
}

#[test]
fn only_a_registry_with_the_model_accepts_the_file() {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(SCENARIO)).expect("reads");
    let err = Scenario::parse(&Registry::builtin(), SCENARIO, &text).expect_err("racelab alone lacks the model");
    let shown = err.to_string();
    assert!(shown.contains("unknown model `sockets`; expected one of: "), "{shown}");
    assert!(shown.starts_with(&format!("{SCENARIO}:2:")), "located at `model`: {shown}");

    let scenario = Scenario::parse(&Registry::builtin().with(Sockets), SCENARIO, &text).expect("accepted");
    assert_eq!(scenario.model, "sockets");
    assert_eq!(scenario.variants, ["bug", "guard", "detach"]);
    assert_eq!(scenario.model_impl().invariants(Some(&scenario)).len(), 3);
}

#[test]
fn a_bad_step_field_is_a_located_error() {
    let dir = temp_dir("bad");
    let file = dir.join("bad.toml");
    std::fs::write(&file, "name = \"x\"\nmodel = \"sockets\"\n\n[[step]]\nat = 1\ndo = \"send\"\nmesage = \"hi\"\n")
        .expect("writes");
    let (code, _, err) = sockets(&["run", s(&file)]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("bad.toml:7:1: unknown field `mesage` in step `send`; expected one of: at, do, message"),
        "{err}"
    );
}
