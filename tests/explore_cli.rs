//! `racelab sweep`, `merge`, `shrink` and `matrix` end to end, through the binary.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

mod support;
use support::{racelab, temp_dir};

fn s(p: &std::path::Path) -> String {
    p.display().to_string()
}

#[test]
fn sweep_output_is_the_same_for_one_and_two_jobs_and_shards_merge_to_it() {
    let dir = temp_dir("jobs");
    let files = ["scenarios/flag_reset_timing.toml", "scenarios/rapid_reconnect.toml"];
    let mut outs = Vec::new();
    for jobs in ["1", "2"] {
        let out = dir.join(format!("jobs{jobs}.jsonl"));
        let o = racelab(&["sweep", files[0], files[1], "--seeds", "0..200", "--jobs", jobs, "--out", &s(&out)]);
        assert_eq!(o.status.code(), Some(1), "failures found: exit 1\n{}", String::from_utf8_lossy(&o.stderr));
        let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(stdout.contains("sweep complete: 3600 runs"), "{stdout}");
        outs.push(std::fs::read_to_string(&out).expect("output"));
    }
    assert!(!outs[0].is_empty());
    assert_eq!(outs[0], outs[1], "byte-identical whatever --jobs is");

    let mut shards = Vec::new();
    for k in 0..3 {
        let out = dir.join(format!("shard{k}.jsonl"));
        let shard = format!("{k}/3");
        let o = racelab(&[
            "sweep",
            files[0],
            files[1],
            "--seeds",
            "0..200",
            "--jobs",
            "1",
            "--shard",
            &shard,
            "--out",
            &s(&out),
        ]);
        assert!(o.status.code().is_some_and(|c| c <= 1));
        shards.push(s(&out));
    }
    let merged = dir.join("merged.jsonl");
    let mut args = vec!["merge".to_owned()];
    args.extend(shards);
    args.extend(["--out".to_owned(), s(&merged)]);
    let o = racelab(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let whole = racelab(&["merge", &s(&dir.join("jobs1.jsonl"))]);
    assert_eq!(std::fs::read(&merged).expect("merged"), whole.stdout, "merged shards = the unsharded sweep");
}

#[test]
fn a_killed_sweep_keeps_every_failure_it_printed() {
    let dir = temp_dir("kill");
    let out = dir.join("failures.jsonl");
    let mut child = Command::new(env!("CARGO_BIN_EXE_racelab"))
        .args(["sweep", "scenarios/server_switch.toml", "--seeds", "0..100000000", "--jobs", "2", "--out"])
        .arg(&out)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawns");
    let stdout = child.stdout.take().expect("stdout");
    let mut printed = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("a line");
        if let Some(rest) = line.strip_prefix("FAIL ") {
            // "FAIL scenario/variant seed N (strategy): ..."
            let mut words = rest.split_whitespace();
            let target = words.next().expect("target").to_owned();
            let seed: u64 = words.nth(1).expect("seed").parse().expect("a number");
            printed.push((target, seed));
        }
        if printed.len() >= 25 {
            break;
        }
    }
    child.kill().expect("killed");
    let status = child.wait().expect("waited");
    assert!(!status.success(), "the sweep did not finish by itself");
    let text = std::fs::read_to_string(&out).expect("the output file");
    let written: Vec<(String, u64)> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("every line whole JSON");
            let target = format!("{}/{}", v["scenario"].as_str().unwrap_or(""), v["variant"].as_str().unwrap_or(""));
            (target, v["seed"].as_u64().expect("seed"))
        })
        .collect();
    assert!(printed.len() >= 25);
    for p in &printed {
        assert!(written.contains(p), "{p:?} was printed but is not in the file");
    }
}

#[test]
fn shrink_writes_a_failure_that_replays_exactly() {
    let dir = temp_dir("shrink");
    let out = dir.join("f.jsonl");
    let o = racelab(&[
        "sweep",
        "scenarios/dispose_during_ice.toml",
        "--variant",
        "version_token",
        "--seeds",
        "0..50",
        "--stop-after",
        "3",
        "--out",
        &s(&out),
        "--shrink",
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("stopped after 3 failures") && stdout.contains("shrunk "), "{stdout}");
    let shrunk_lines = std::fs::read_to_string(dir.join("f.shrunk.jsonl")).expect("shrunk file");
    assert!(!shrunk_lines.trim().is_empty());

    let o = racelab(&["shrink", &s(&out), "--line", "2", "--out", &s(&dir.join("one.json"))]);
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout.contains("non-calm choices  ") && stdout.contains("trace events"), "{stdout}");
    assert!(stdout.lines().last().is_some_and(|l| l.starts_with(">>")), "ends with the violation: {stdout}");
    let o = racelab(&["replay", &s(&dir.join("one.json"))]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("replayed exactly"));
}

#[test]
fn matrix_lists_variants_against_invariants() {
    let o = racelab(&["matrix", "scenarios/flag_reset_timing.toml", "--seeds", "150", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let m: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let rows = m[0]["rows"].as_array().expect("rows");
    let row = |v: &str| rows.iter().find(|r| r["variant"] == v).expect("a row per variant");
    let injected = row("injected_client");
    assert!(injected["cells"]["connect_settles"]["failing"].as_u64().unwrap_or(0) > 0);
    assert!(
        injected["cells"].get("candidate_to_own_session").is_none(),
        "a connection handed its client sends through no other"
    );
    let vt = row("version_token");
    assert!(
        vt["cells"]["candidate_to_own_session"]["failing"].as_u64().unwrap_or(0) > 0,
        "the callback captured again on the next connect carries the current version for old connections too"
    );
    let md = racelab(&["matrix", "scenarios/flag_reset_timing.toml", "--seeds", "50"]);
    let text = String::from_utf8_lossy(&md.stdout).into_owned();
    assert!(text.contains("| variant |") && text.contains("| shipped_stream |"), "{text}");
}

#[test]
fn bad_arguments_are_refused() {
    for args in [
        &["sweep", "scenarios/rapid_reconnect.toml", "--shard", "3/3"][..],
        &["sweep", "scenarios/rapid_reconnect.toml", "--strategy", "dfs"][..],
        &["sweep", "scenarios/rapid_reconnect.toml", "--variant", "nope"][..],
        &["sweep", "scenarios/rapid_reconnect.toml", "--shrink"][..],
    ] {
        let o = racelab(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    }
    let dir = temp_dir("bad");
    let bad = dir.join("bad.jsonl");
    std::fs::write(&bad, "{\"not\": \"a failure\"}\n").expect("write");
    let o = racelab(&["merge", &s(&bad)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("bad.jsonl:1:"), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Two tasks, each sleeping in a window: 16 tapes in all (see tests/tasks_exhaustive.rs).
const TINY: &str = r#"
name = "tiny"
model = "tasks"

[[task]]
name = "a"
program = "await [1, 2]"

[[task]]
name = "b"
program = "await [1, 3]"
"#;

#[test]
fn exhaustive_sweeps_count_every_tape_say_when_the_bound_cut_and_report_failures() {
    let dir = temp_dir("exhaustive");
    let tiny = dir.join("tiny.toml");
    std::fs::write(&tiny, TINY).expect("write");
    let o = racelab(&["sweep", &s(&tiny), "--strategy", "exhaustive"]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("all 16 tapes pass (search complete"), "{out}");

    let o = racelab(&["sweep", &s(&tiny), "--strategy", "exhaustive", "--max-tapes", "5"]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("all 5 tapes explored pass, but the bound cut the search"), "{out}");

    let failures = dir.join("f.jsonl");
    let o = racelab(&[
        "sweep",
        "scenarios/validator_double_lock.toml",
        "--variant",
        "double_lock",
        "--strategy",
        "exhaustive",
        "--out",
        &s(&failures),
    ]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("FAIL") && out.contains("deadlock"), "{out}");
    let o = racelab(&["replay", &s(&failures)]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));

    let o = racelab(&["sweep", &s(&tiny), "--strategy", "exhaustive", "--seeds", "0..10"]);
    assert_eq!(o.status.code(), Some(2), "seeds mean nothing to an exhaustive search");
}
