//! The command line on hostile input (issue 16): exit codes uniform across every command,
//! signals, a closed stdout, failure files that point elsewhere, junk tapes, limits.

mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use support::{racelab, temp_dir, text};

fn s(p: &Path) -> String {
    p.to_str().expect("utf8").to_owned()
}

/// A saved failure of `server_switch / flag_callback` (seeds 0..10 hold one), in `dir`.
fn saved_failure(dir: &Path) -> PathBuf {
    let o = racelab(&[
        "run",
        "scenarios/server_switch.toml",
        "--variant",
        "flag_callback",
        "--seeds",
        "0..10",
        "--save-failures",
        &s(dir),
    ]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let saved: Vec<PathBuf> = std::fs::read_dir(dir).expect("dir").map(|e| e.expect("entry").path()).collect();
    assert_eq!(saved.len(), 1, "{saved:?}");
    saved[0].clone()
}

#[test]
fn every_command_exits_0_ok_1_expectation_failed_2_bad_input() {
    let dir = temp_dir("codes");
    let failure = saved_failure(&dir.join("saved"));
    let failure = s(&failure);
    let garbage = dir.join("garbage.json");
    std::fs::write(&garbage, "this is not json\n").expect("write");
    let garbage = s(&garbage);
    let empty = dir.join("empty.jsonl");
    std::fs::write(&empty, "").expect("write");
    let empty = s(&empty);
    let wrong = dir.join("wrong.toml");
    let text_in = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/dispose_during_ice.toml"))
        .expect("reads")
        .replace("violates = \"no_connection_outlives_dispose\"", "violates = \"no_callback_leak\"");
    std::fs::write(&wrong, text_in).expect("write");
    let wrong = s(&wrong);
    let mut differs: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&failure).expect("reads")).expect("json");
    differs["trace_hash"] = serde_json::Value::String("0000000000000000".into());
    let differs_path = dir.join("differs.json");
    std::fs::write(&differs_path, differs.to_string()).expect("write");
    let differs = s(&differs_path);
    // verify judges a bounded search against the file's expectations: `wrong` expects a
    // break the variant never makes.
    let mut p: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&failure).expect("reads")).expect("json");
    p["verdict"] = serde_json::json!("Pass");
    let pass = dir.join("pass.json");
    std::fs::write(&pass, p.to_string()).expect("write");
    let pass = s(&pass);
    let shrunk = s(&dir.join("shrunk.json"));

    let cases: Vec<(Vec<&str>, i32)> = vec![
        (vec!["list"], 0),
        (vec!["run", "scenarios/dispose_during_ice.toml"], 0),
        (vec!["run", &wrong, "--seeds", "0..12"], 1),
        (vec!["run", &garbage], 2),
        (vec!["run", "scenarios/nope.toml"], 2),
        (vec!["replay", &failure], 0),
        (vec!["replay", &differs], 1),
        (vec!["replay", &garbage], 2),
        (vec!["replay", &failure, "--line", "2"], 2),
        (vec!["explain", &failure], 0),
        (vec!["explain", &garbage], 2),
        (vec!["explain", "scenarios/dispose_during_ice.toml"], 2),
        (vec!["sweep", "scenarios/burst_over_capacity.toml", "--variant", "send_timeout", "--seeds", "0..2"], 0),
        (vec!["sweep", "scenarios/server_switch.toml", "--variant", "flag_callback", "--seeds", "0..10"], 1),
        (vec!["sweep", &garbage], 2),
        (vec!["shrink", &failure, "--out", &shrunk], 0),
        (vec!["shrink", &garbage], 2),
        (vec!["shrink", &pass], 2),
        (vec!["matrix", "scenarios/dispose_during_ice.toml", "--seeds", "2"], 0),
        (vec!["matrix", &garbage], 2),
        (vec!["merge", &failure], 0),
        (vec!["merge", &empty], 2),
        (vec!["merge", &garbage], 2),
        (vec!["verify", &garbage], 2),
        (vec!["verify", "scenarios/burst_over_capacity.toml", "--variant", "send_timeout", "--budget", "100"], 0),
        (vec!["verify", &wrong, "--variant", "shipped_stream", "--budget", "300"], 1),
    ];
    for (args, code) in cases {
        let o = racelab(&args);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(code), "{args:?}\n{out}\n{err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn a_closed_stdout_ends_quietly() {
    for args in [&["list"][..], &["run", "scenarios/dispose_during_ice.toml", "--seed", "0", "--format", "jsonl"][..]] {
        // The reader is gone before the child starts, so every print meets EPIPE (closing it
        // after spawning would race a fast child that writes first).
        let (reader, writer) = std::io::pipe().expect("a pipe");
        drop(reader);
        let child = Command::new(env!("CARGO_BIN_EXE_racelab"))
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(writer)
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawns");
        let o = child.wait_with_output().expect("waits");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains("panicked") && !err.contains("failed printing"), "{args:?}: {err}");
        assert_eq!(o.status.code(), Some(141), "{args:?}: {err}");
    }
}

/// Start a long sweep, wait for its first failure line, send `signal`, and return (exit code,
/// stdout).
fn interrupted_sweep(signal: &str) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_racelab"))
        .args(["sweep", "scenarios/server_switch.toml", "--seeds", "0..18446744073709551615", "--jobs", "2"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawns");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut out = String::new();
    for line in lines.by_ref() {
        let line = line.expect("a line");
        out.push_str(&line);
        out.push('\n');
        if line.starts_with("FAIL ") {
            break;
        }
    }
    let killed = Command::new("kill").args([signal, &child.id().to_string()]).status().expect("kill runs");
    assert!(killed.success());
    for line in lines {
        out.push_str(&line.expect("a line"));
        out.push('\n');
    }
    (child.wait().expect("waits").code(), out)
}

#[test]
fn sigterm_ends_a_sweep_with_its_summary_and_143_as_ctrl_c_does_with_130() {
    let (code, out) = interrupted_sweep("-TERM");
    assert_eq!(code, Some(143), "{out}");
    assert!(out.contains("sweep INTERRUPTED (SIGTERM)"), "{out}");
    let (code, out) = interrupted_sweep("-INT");
    assert_eq!(code, Some(130), "{out}");
    assert!(out.contains("sweep INTERRUPTED (Ctrl-C)"), "{out}");
}

#[test]
fn an_interrupted_matrix_over_every_seed_does_not_collect_the_range() {
    let child = Command::new(env!("CARGO_BIN_EXE_racelab"))
        .args(["matrix", "scenarios/server_switch.toml", "--seeds", "0..18446744073709551615", "--jobs", "2"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawns");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let killed = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill runs");
    assert!(killed.success());
    let o = child.wait_with_output().expect("waits");
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(130), "{out}\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(out.contains("| flag_callback |"), "{out}");
}

#[test]
fn a_failure_file_names_its_scenario_relative_to_itself_or_by_scenario() {
    let dir = temp_dir("relative");
    let failure = saved_failure(&dir.join("saved"));
    // The scenario moves next to the failure file, named relatively: found from any cwd.
    let moved = dir.join("moved");
    std::fs::create_dir_all(&moved).expect("mkdir");
    std::fs::copy(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/server_switch.toml"), moved.join("s.toml"))
        .expect("copy");
    let mut f: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&failure).expect("reads")).expect("json");
    f["file"] = serde_json::json!("s.toml");
    let there = moved.join("f.json");
    std::fs::write(&there, f.to_string()).expect("write");
    let o = Command::new(env!("CARGO_BIN_EXE_racelab"))
        .args(["replay", &s(&there)])
        .current_dir("/")
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));

    // A failure that names a file that is no scenario: refused, and nothing of it printed.
    f["file"] = serde_json::json!("/etc/passwd");
    let evil = dir.join("evil.json");
    std::fs::write(&evil, f.to_string()).expect("write");
    for cmd in ["replay", "explain", "shrink"] {
        let o = racelab(&[cmd, &s(&evil)]);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{cmd}: {out}\n{err}");
        assert!(!err.contains("root:") && !out.contains("root:"), "{cmd}: {err}");
    }
    // A .toml that is no scenario: located error, no line of it quoted.
    let fake = dir.join("fake.toml");
    std::fs::write(&fake, "root:x:0:0:root:/root:/bin/bash\n").expect("write");
    f["file"] = serde_json::json!(s(&fake));
    std::fs::write(&evil, f.to_string()).expect("write");
    let o = racelab(&["replay", &s(&evil)]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("fake.toml:1:") && !err.contains("root:x"), "{err}");
    // --scenario overrides what the file names.
    let o = racelab(&["replay", &s(&evil), "--scenario", "scenarios/server_switch.toml"]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let o = racelab(&["explain", &s(&evil), "--scenario", "scenarios/server_switch.toml", "--format", "mermaid"]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
}

#[test]
fn explain_reads_a_sweep_line_as_replay_and_shrink_do() {
    let dir = temp_dir("line");
    let out = dir.join("sweep.jsonl");
    let o = racelab(&[
        "sweep",
        "scenarios/server_switch.toml",
        "--variant",
        "flag_callback",
        "--seeds",
        "0..40",
        "--out",
        &s(&out),
    ]);
    assert_eq!(o.status.code(), Some(1), "{:?}", text(&o));
    let lines = std::fs::read_to_string(&out).expect("reads").lines().count();
    assert!(lines >= 2, "{lines}");
    let second: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(&out).expect("reads").lines().nth(1).expect("line 2"))
            .expect("json");
    let o = racelab(&["explain", &s(&out), "--line", "2"]);
    let (text_out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{text_out}\n{err}");
    assert!(text_out.contains(&format!("seed {}", second["seed"])), "{text_out}");
    assert!(text_out.contains("--line 2"), "the printed command names the line: {text_out}");
    let o = racelab(&["explain", &s(&out), "--line", &(lines + 1).to_string()]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn strict_replay_refuses_a_tape_with_choices_left_over() {
    let dir = temp_dir("junk");
    let failure = saved_failure(&dir.join("saved"));
    let mut f: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&failure).expect("reads")).expect("json");
    let last = f["tape"].as_array().and_then(|t| t.last().cloned()).expect("a tape");
    for _ in 0..2000 {
        f["tape"].as_array_mut().expect("array").push(last.clone());
    }
    let junk = dir.join("junk.json");
    std::fs::write(&junk, f.to_string()).expect("write");
    let o = racelab(&["replay", &s(&junk)]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
    assert!(!err.contains("replayed exactly"), "{err}");
    assert!(out.contains("2000 tape choices never asked for"), "{out}");
}

#[test]
fn merge_streams_sorts_and_deduplicates_as_before() {
    let dir = temp_dir("merge");
    let out = dir.join("sweep.jsonl");
    let o = racelab(&["sweep", "scenarios/server_switch.toml", "--seeds", "0..30", "--out", &s(&out)]);
    assert_eq!(o.status.code(), Some(1), "{:?}", text(&o));
    let lines: Vec<String> = std::fs::read_to_string(&out).expect("reads").lines().map(str::to_owned).collect();
    // Shuffled, duplicated, split in two files with a blank line: the same merge.
    let (a, b) = (dir.join("a.jsonl"), dir.join("b.jsonl"));
    let mut rev = lines.clone();
    rev.reverse();
    std::fs::write(&a, rev.join("\n") + "\n\n").expect("write");
    std::fs::write(&b, lines[..lines.len() / 2].join("\n")).expect("write");
    let whole = racelab(&["merge", &s(&out)]);
    let parts = racelab(&["merge", &s(&a), &s(&b)]);
    assert_eq!(whole.status.code(), Some(0));
    assert_eq!(parts.status.code(), Some(0), "{:?}", text(&parts));
    assert_eq!(whole.stdout, parts.stdout);
    let merged = String::from_utf8_lossy(&whole.stdout).into_owned();
    assert_eq!(merged.lines().count(), lines.len(), "nothing lost, duplicates dropped");
    let mut sorted: Vec<&str> = merged.lines().collect();
    sorted.sort_by_key(|l| {
        let v: serde_json::Value = serde_json::from_str(l).expect("json");
        (v["variant"].as_str().unwrap_or("").to_owned(), v["seed"].as_u64())
    });
    assert_eq!(sorted, merged.lines().collect::<Vec<_>>(), "sorted by variant, then seed");
}

#[test]
fn saved_failure_names_stay_inside_the_folder() {
    let dir = temp_dir("names");
    let text_in = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/server_switch.toml"))
        .expect("reads")
        .replacen("name = \"server_switch\"", "name = \"../../escaped\"", 1);
    let file = dir.join("evil.toml");
    std::fs::write(&file, text_in).expect("write");
    let out = dir.join("out");
    let o = racelab(&["run", &s(&file), "--variant", "flag_callback", "--seeds", "0..10", "--save-failures", &s(&out)]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let saved: Vec<PathBuf> = std::fs::read_dir(&out).expect("dir").map(|e| e.expect("entry").path()).collect();
    assert_eq!(saved.len(), 1, "{saved:?}");
    assert!(!dir.parent().expect("parent").join("escaped.flag_callback.seed0.json").exists());
    let kept: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&saved[0]).expect("reads")).expect("json");
    assert_eq!(kept["scenario"], "../../escaped", "the original name is kept inside the file");
}

#[test]
fn sizes_in_model_sections_are_bounded_with_a_located_error() {
    let dir = temp_dir("sizes");
    let cases = [
        (
            "scenarios/dispose_during_ice.toml",
            "ice_candidates = [2, 4]",
            "ice_candidates = [2, 4294967296]",
            "ice_candidates",
        ),
        ("scenarios/burst_over_capacity.toml", "count = 120", "count = 1000000000", "count"),
        ("scenarios/burst_over_capacity.toml", "rate = 8", "rate = 1000000000", "rate"),
        ("scenarios/burst_over_capacity.toml", "capacity = 16", "capacity = 1000000000", "capacity"),
        (
            "scenarios/burst_over_capacity.toml",
            "max_ticks = 4000",
            "max_ticks = 4000\nmax_messages = 9223372036854775807",
            "max_messages",
        ),
    ];
    for (base, from, to, field) in cases {
        let text_in = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(base)).expect("reads");
        assert!(text_in.contains(from), "{base} holds {from}");
        let file = dir.join("big.toml");
        let changed = text_in.replacen(from, to, 1);
        std::fs::write(&file, &changed).expect("write");
        let o = racelab(&["run", &s(&file), "--seeds", "0..1"]);
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{to}: {err}");
        let last = to.lines().last().expect("a line");
        let line = changed.lines().position(|l| l.contains(last)).expect("line") + 1;
        assert!(err.contains(&format!("big.toml:{line}:")), "{to}: located: {err}");
        assert!(err.contains(&format!("`{field}`")) && err.contains("at most"), "{to}: {err}");
    }
}

#[test]
fn a_seventy_thousand_character_name_prints_in_every_command() {
    let dir = temp_dir("long");
    let long = "n".repeat(70_000);
    let text_in = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/server_switch.toml"))
        .expect("reads")
        .replacen("name = \"server_switch\"", &format!("name = \"{long}\""), 1)
        .replace("peer = \"P1\"", &format!("peer = \"{long}\""));
    let file = dir.join("long.toml");
    std::fs::write(&file, text_in).expect("write");
    let f = s(&file);
    let out = dir.join("sweep.jsonl");
    for args in [
        vec!["run", &f, "--seeds", "0..5"],
        vec!["run", &f, "--variant", "flag_callback", "--seed", "0"],
        vec!["sweep", &f, "--seeds", "0..5", "--out", out.to_str().expect("utf8")],
        vec!["verify", &f, "--variant", "flag_callback", "--budget", "20"],
        vec!["matrix", &f, "--seeds", "3"],
        vec!["explain", &f, "--variant", "flag_callback", "--seed", "0", "--format", "mermaid"],
    ] {
        let o = racelab(&args);
        let (stdout, err) = text(&o);
        assert!(!err.contains("panicked"), "{:?}: {err}", &args[..1]);
        assert!(o.status.code().is_some_and(|c| c <= 1), "{:?}: {}\n{err}", &args[..1], stdout.len());
    }
}

#[test]
fn sigterm_and_ctrl_c_end_a_run_with_the_seeds_that_ran() {
    for (signal, code) in [("-TERM", 143), ("-INT", 130)] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_racelab"))
            .args(["run", "scenarios/server_switch.toml", "--seeds", "0..18446744073709551615"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawns");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        // The header is printed before the first variant starts its endless seeds.
        let header = lines.next().expect("a header").expect("a line");
        assert!(header.starts_with("server_switch"), "{header}");
        std::thread::sleep(std::time::Duration::from_millis(500));
        let killed = Command::new("kill").args([signal, &child.id().to_string()]).status().expect("kill runs");
        assert!(killed.success());
        let out: Vec<String> = lines.map(|l| l.expect("a line")).collect();
        let o = child.wait_with_output().expect("waits");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(code), "{signal}: {out:?} {err}");
        assert!(err.contains("interrupted: the last variant above covers only the seeds that ran"), "{err}");
        // Exactly one variant reported, over the seeds that ran (not the endless range).
        let reported: Vec<&String> = out.iter().filter(|l| l.contains(" pass ") || l.contains(" FAIL ")).collect();
        assert_eq!(reported.len(), 1, "{out:?}");
    }
}
