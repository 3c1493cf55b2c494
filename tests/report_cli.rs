//! `racelab explain` end to end: from a scenario and seed, from a saved failure, each
//! format, `--out`, `--focus`, and bad arguments.

mod support;
use support::{racelab, temp_dir, text};

const ICE: &str = "scenarios/dispose_during_ice.toml";

/// The first seed whose flag_callback run violates no_candidate_for_removed_connection.
fn ice_seed() -> String {
    let o = racelab(&["run", ICE, "--variant", "flag_callback", "--format", "jsonl"]);
    let (out, _) = text(&o);
    let summary: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON line");
    summary["failures"]["no_candidate_for_removed_connection"]["first_seed"].as_u64().expect("a first seed").to_string()
}

#[test]
fn explain_a_seed_in_each_format() {
    let seed = ice_seed();
    let o = racelab(&["explain", ICE, "--variant", "flag_callback", "--seed", &seed]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(out.starts_with(&format!("dispose_during_ice / flag_callback / seed {seed}: violates")), "{out}");
    assert!(out.contains(&format!("reproduce: racelab run {ICE} --variant flag_callback --seed {seed}")), "{out}");
    assert!(
        out.contains("named by the verdict, and their states:\n  pc:P"),
        "the removed connection is named first: {out}"
    );
    assert!(out.lines().any(|l| l.starts_with(" *") && l.contains("state removed")), "{out}");
    assert!(out.lines().last().is_some_and(|l| l.starts_with(">>")), "{out}");

    let o = racelab(&["explain", ICE, "--variant", "flag_callback", "--seed", &seed, "--format", "mermaid"]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(0));
    assert!(out.starts_with("sequenceDiagram\n") && out.contains("participant A1 as app"), "{out}");
    assert!(out.contains("VIOLATION no_candidate_for_removed_connection"), "{out}");

    let dir = temp_dir("formats");
    let html = dir.join("report.html");
    let o = racelab(&[
        "explain",
        ICE,
        "--variant",
        "flag_callback",
        "--seed",
        &seed,
        "--format",
        "html",
        "--out",
        html.to_str().expect("utf8"),
    ]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(out.is_empty(), "--out writes the file, not standard output");
    let page = std::fs::read_to_string(&html).expect("the report was written");
    assert!(page.starts_with("<!DOCTYPE html>") && page.contains("id=\"violation\""));
}

#[test]
fn explain_a_saved_failure_replays_its_tape() {
    let dir = temp_dir("failure");
    let seed = ice_seed();
    let o = racelab(&[
        "run",
        ICE,
        "--variant",
        "flag_callback",
        "--seed",
        &seed,
        "--save-failures",
        dir.to_str().expect("utf8"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let saved = dir.join(format!("dispose_during_ice.flag_callback.seed{seed}.json"));
    let from_seed = text(&racelab(&["explain", ICE, "--variant", "flag_callback", "--seed", &seed])).0;
    let o = racelab(&["explain", saved.to_str().expect("utf8")]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(out.contains(&format!("reproduce: racelab replay {}", saved.display())), "{out}");
    assert!(out.contains("replayed from the tape of"), "{out}");
    // The same run: the same timeline below the header.
    let body = |t: &str| t.split_once("      tick ").map(|(_, b)| b.to_owned()).expect("a timeline");
    assert_eq!(body(&out), body(&from_seed));

    // Focus narrows it to one connection, the violation kept.
    let o = racelab(&["explain", saved.to_str().expect("utf8"), "--focus", "pc:P1#1"]);
    let (out, _) = text(&o);
    assert!(out.contains("focus: pc:P1#1 ("), "{out}");
    // Events of the other peer stay only where they are the verdict's named ids' states (`*`) or the violation itself (`>>`).
    assert!(
        body(&out).lines().filter(|l| !l.starts_with(" *") && !l.starts_with(">>")).all(|l| !l.contains("peer:P2 ")),
        "{out}"
    );
    assert!(out.lines().last().is_some_and(|l| l.starts_with(">>")), "{out}");

    // A doctored tape diverges: the report says so and the exit code is 1.
    let mut failure: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&saved).expect("reads")).expect("json");
    failure["tape"][1]["label"] = serde_json::Value::String("doctored".into());
    let doctored = dir.join("doctored.json");
    std::fs::write(&doctored, failure.to_string()).expect("writes");
    let o = racelab(&["explain", doctored.to_str().expect("utf8")]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
    assert!(err.contains("replay differs from the saved failure"), "{err}");
    assert!(out.contains("replay diverged at choice 1"), "{out}");
}

#[test]
fn bad_explain_arguments_are_errors_with_exit_two() {
    let cases: &[(&[&str], &str)] = &[
        (&["explain", ICE, "--seed", "1"], "a scenario file needs --variant (one of: flag_callback"),
        (&["explain", ICE, "--variant", "flag_callback"], "a scenario file needs --seed N"),
        (&["explain", ICE, "--variant", "nope", "--seed", "1"], "unknown variant `nope`"),
        (
            &["explain", ICE, "--variant", "flag_callback", "--seed", "1", "--focus", "peer:P9"],
            "`peer:P9` does not appear in this run; its ids are: ",
        ),
        (&["explain", "Cargo.toml", "--variant", "x", "--seed", "1"], "Cargo.toml"),
        (&["explain", "README.md"], "not a racelab failure file"),
    ];
    for (args, needle) in cases {
        let o = racelab(args);
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    let dir = temp_dir("bad");
    let saved = dir.join("f.json");
    std::fs::write(&saved, "{}").expect("writes");
    let o = racelab(&["explain", saved.to_str().expect("utf8"), "--seed", "3"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("--variant and --seed are for scenario files"));
}
