//! racelab in CI: JUnit XML, GitHub annotations on the line that is wrong, `--seeds N`, and
//! JSON Lines that are byte-stable from run to run.

use std::process::Command;

mod support;
use support::{junit_cases, racelab, temp_dir, text, unclocked};

/// dispose_during_ice with one expectation made wrong: `flag_callback` said to hold.
fn wrong_expectation(dir: &std::path::Path) -> std::path::PathBuf {
    let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/dispose_during_ice.toml"))
        .expect("the shipped scenario");
    let wrong = src.replacen(
        "variant = [\"flag_callback\", \"per_peer_map\", \"stream\", \"version_token\", \"injected_client\"]",
        "variant = \"flag_callback\"\nholds = true\n\n[[expect]]\nvariant = [\"per_peer_map\", \"stream\", \"version_token\", \"injected_client\"]",
        1,
    );
    assert_ne!(src, wrong, "the expectation to break is where the test thinks it is");
    let path = dir.join("wrong.toml");
    std::fs::write(&path, wrong).expect("write");
    path
}

#[test]
fn junit_has_a_case_per_variant_and_a_failure_where_the_expectation_broke() {
    let dir = temp_dir("junit");
    let file = wrong_expectation(&dir);
    let xml = dir.join("report.xml");
    let o = racelab(&["run", &file.display().to_string(), "--seeds", "60", "--junit", &xml.display().to_string()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o).1);
    let xml = std::fs::read_to_string(&xml).expect("the report");
    let cases = junit_cases(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    assert_eq!(cases.iter().filter(|c| c.2 == "failure").count(), 1, "{cases:?}");
    assert!(
        xml.starts_with(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"racelab\" tests=\"9\" failures=\"1\">"
        ),
        "{xml}"
    );
    assert_eq!(xml.matches("<testcase ").count(), 9, "{xml}");
    let case = xml.split("<testcase ").find(|c| c.starts_with("name=\"flag_callback\"")).expect("the broken case");
    assert!(case.contains("<failure message=\"dispose_during_ice / flag_callback: "), "{case}");
    assert!(case.contains("see it: racelab run ") && case.contains("--variant flag_callback --seed "), "{case}");
    let ok = xml.split("<testcase ").find(|c| c.starts_with("name=\"stream\"")).expect("a case that held");
    assert!(!ok.contains("<failure"), "{ok}");
}

#[test]
fn on_github_a_broken_expectation_and_a_bad_file_are_annotated_where_they_are() {
    let dir = temp_dir("github");
    let file = wrong_expectation(&dir);
    let shown = file.display().to_string();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_racelab"))
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("GITHUB_ACTIONS", "true")
            .output()
            .expect("runs")
    };
    let o = run(&["run", &shown, "--seeds", "60"]);
    let (out, _) = text(&o);
    let src = std::fs::read_to_string(&file).expect("read");
    let line = src.lines().position(|l| l == "holds = true").expect("the wrong line");
    // The expectation's table header is the line above `variant`, two above `holds`.
    let expect_line = line - 1;
    let want = format!(
        "::error file={},line={expect_line},title=racelab%3A expectation not met::dispose_during_ice / flag_callback: ",
        shown.replace(':', "%3A").replace(',', "%2C")
    );
    assert!(out.lines().any(|l| l.starts_with(&want)), "want {want}\n{out}");
    assert_eq!(out.lines().filter(|l| l.starts_with("::error")).count(), 1, "only the broken one: {out}");

    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "name = \"x\"\nmodel = \"signaling\"\nseeds = \"many\"\n").expect("write");
    let o = run(&["run", &bad.display().to_string()]);
    assert_eq!(o.status.code(), Some(2));
    let (out, _) = text(&o);
    assert!(out.starts_with(&format!("::error file={},line=3,col=", bad.display())), "{out}");
}

#[test]
fn seeds_take_a_count_and_json_lines_are_the_same_every_time() {
    let args = ["run", "scenarios/dispose_during_ice.toml", "--seeds", "60", "--format", "jsonl"];
    let a = racelab(&args);
    let b = racelab(&args);
    assert_eq!(a.status.code(), Some(0), "{}", text(&a).1);
    assert_eq!(a.stdout, b.stdout, "byte-stable");
    let (out, _) = text(&a);
    let first: serde_json::Value = serde_json::from_str(out.lines().next().expect("a line")).expect("JSON");
    assert_eq!(first["runs"], 60);
    assert_eq!(first["strategy"], "pct");
    for bad in ["0", "5..5", "x"] {
        let o = racelab(&["run", "scenarios/dispose_during_ice.toml", "--seeds", bad]);
        assert_eq!(o.status.code(), Some(2), "--seeds {bad}");
    }
}

#[test]
fn completions_and_a_man_page_for_the_binary_as_run() {
    let o = racelab(&["completions", "bash"]);
    assert_eq!(o.status.code(), Some(0));
    let (out, _) = text(&o);
    assert!(out.contains("_racelab()") && out.contains("sweep") && out.contains("--strategy"), "{out}");
    let o = racelab(&["completions", "zsh"]);
    assert!(text(&o).0.starts_with("#compdef racelab"), "{}", text(&o).0);
    let o = racelab(&["man"]);
    let (out, _) = text(&o);
    assert!(out.contains(".TH racelab 1") && out.contains("verify"), "{out}");
    assert_eq!(racelab(&["completions", "cmd.exe"]).status.code(), Some(2));
}

#[test]
fn a_sweep_stopped_early_does_not_call_unreached_variants_a_pass() {
    let o = racelab(&["sweep", "scenarios/dispose_during_ice.toml", "--stop-after", "1", "--jobs", "1"]);
    assert_eq!(o.status.code(), Some(1));
    let (out, _) = text(&o);
    let line =
        out.lines().find(|l| l.trim_start().starts_with("dispose_during_ice/dispose_unawaited")).expect("a line");
    assert!(line.ends_with("not run (the sweep stopped first)"), "{out}");
    assert!(!out.lines().any(|l| l.contains(" 0 runs") && l.ends_with("pass")), "{out}");
}

#[test]
fn a_folder_means_every_scenario_file_under_it() {
    let dir = temp_dir("folder");
    std::fs::create_dir_all(dir.join("nested")).expect("dir");
    for (name, to) in [("dispose_during_ice.toml", "a.toml"), ("server_switch.toml", "nested/b.toml")] {
        std::fs::copy(format!("{}/scenarios/{name}", env!("CARGO_MANIFEST_DIR")), dir.join(to)).expect("copy");
    }
    std::fs::write(dir.join("notes.txt"), "not a scenario").expect("write");
    let o = racelab(&["run", &dir.display().to_string(), "--seeds", "60", "--format", "jsonl"]);
    let (out, err) = text(&o);
    let scenarios: Vec<String> = out
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).expect("JSON")["scenario"].as_str().unwrap_or("").to_owned()
        })
        .collect();
    assert!(scenarios.first().is_some_and(|s| s == "dispose_during_ice"), "{out}{err}");
    assert!(scenarios.last().is_some_and(|s| s == "server_switch"), "sorted, nested folders too: {out}");
    let empty = temp_dir("empty-folder");
    let o = racelab(&["matrix", &empty.display().to_string()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("no scenario files (*.toml) in this folder"), "{}", text(&o).1);
}

#[test]
fn the_matrix_counts_every_failing_seed() {
    // all_at_once/baseline fails on every seed (its calm run already does): 100%, not the
    // few failures a sweep writes out in full.
    let o = racelab(&["matrix", "scenarios/all_at_once.toml", "--seeds", "30"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
    let (out, _) = text(&o);
    let row = out.lines().find(|l| l.starts_with("| baseline |")).expect("a row");
    assert!(row.contains("| 100.0% (first 0, median 1) | "), "{row}");
}

#[test]
fn run_replays_the_regressions_beside_a_scenario_first() {
    let dir = temp_dir("regressions");
    let scenario = dir.join("dispose_during_ice.toml");
    std::fs::copy(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/dispose_during_ice.toml"), &scenario).expect("copy");
    let folder = dir.join("racelab-regressions");
    let (file, folder_s) = (scenario.display().to_string(), folder.display().to_string());
    let o = racelab(&["run", &file, "--variant", "flag_callback", "--seed", "1", "--save-failures", &folder_s]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
    let saved: Vec<_> = std::fs::read_dir(&folder).expect("saved").map(|e| e.expect("entry").path()).collect();
    assert_eq!(saved.len(), 1, "{saved:?}");
    // It replays as it was saved: the run goes on to the expectations.
    let o = racelab(&["run", &file, "--variant", "flag_callback", "--seeds", "60"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).0);
    assert!(!text(&o).0.contains("REGRESSION"));
    // A regression that no longer replays the same is a failure of the run.
    let json = std::fs::read_to_string(&saved[0]).expect("read");
    let hash = serde_json::from_str::<serde_json::Value>(&json).expect("JSON")["trace_hash"]
        .as_str()
        .expect("a hash")
        .to_owned();
    std::fs::write(&saved[0], json.replace(&hash, "0000000000000000")).expect("write");
    let o = racelab(&["run", &file, "--variant", "flag_callback", "--seeds", "60"]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.starts_with("dispose_during_ice: REGRESSION: "), "{out}");
}

#[test]
fn verify_writes_junit_with_a_failure_where_the_search_disagrees() {
    let dir = temp_dir("verify-junit");
    let xml = dir.join("verify.xml");
    let o = racelab(&[
        "verify",
        "scenarios/restart_resume.toml",
        "scenarios/duplicate_replay_on_reconnect.toml",
        "--budget",
        "300",
        "--max-deviations",
        "2",
        "--jobs",
        "2",
        "--junit",
        &xml.display().to_string(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).0);
    let xml = std::fs::read_to_string(&xml).expect("the report");
    assert!(xml.contains("<testsuite name=\"restart_resume\" tests=\"5\" failures=\"0\""), "{xml}");
    assert!(xml.contains("<testsuite name=\"duplicate_replay_on_reconnect\" tests=\"5\" failures=\"0\""), "{xml}");
    // A file whose fix is said to fail: the search certifies it instead, and JUnit says so.
    let src =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/duplicate_replay_on_reconnect.toml"))
            .expect("read");
    let wrong = dir.join("wrong.toml");
    std::fs::write(&wrong, src.replacen("holds = true", "violates = \"no_duplicate_delivery\"", 1)).expect("write");
    let xml = dir.join("wrong.xml");
    let o =
        racelab(&["verify", &wrong.display().to_string(), "--budget", "300", "--junit", &xml.display().to_string()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o).0);
    let xml = std::fs::read_to_string(&xml).expect("the report");
    assert!(xml.contains("failures=\"5\""), "{xml}");
    assert!(xml.contains("<failure message=\"duplicate_replay_on_reconnect / try_send_drop: "), "{xml}");
}

/// The broken case and a held one of a report on [`wrong_expectation`]'s file.
fn check_wrong_expectation_report(xml: &str, how: &str) {
    let cases = junit_cases(xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    assert_eq!(cases.len(), 9, "a case per variant: {cases:?}");
    let failed: Vec<&str> = cases.iter().filter(|c| c.2 == "failure").map(|c| c.1.as_str()).collect();
    assert_eq!(failed, ["flag_callback"], "only the variant whose expectation is wrong: {xml}");
    assert!(cases.iter().all(|c| c.0 == "dispose_during_ice"), "{cases:?}");
    let case = xml.split("<testcase ").find(|c| c.starts_with("name=\"flag_callback\"")).expect("the broken case");
    assert!(case.contains("<failure message=\"dispose_during_ice / flag_callback: expected to hold, but "), "{case}");
    assert!(case.contains("see it: racelab run ") && case.contains("--variant flag_callback --seed "), "{case}");
    assert!(case.contains(how), "{case}");
    let ok = xml.split("<testcase ").find(|c| c.starts_with("name=\"stream\"")).expect("a case that held");
    assert!(!ok.contains("<failure"), "{ok}");
}

#[test]
fn sweep_writes_junit_judged_against_the_expectations() {
    let dir = temp_dir("sweep-junit");
    let file = wrong_expectation(&dir);
    let xml = dir.join("sweep.xml");
    let (file_s, xml_s) = (file.display().to_string(), xml.display().to_string());
    let o = racelab(&["sweep", &file_s, "--seeds", "60", "--jobs", "2", "--junit", &xml_s]);
    // Failures were found (the sweep's own exit code); the report judges each variant.
    assert_eq!(o.status.code(), Some(1), "{}", text(&o).1);
    check_wrong_expectation_report(&std::fs::read_to_string(&xml).expect("the report"), "--strategy pct");
    // The same seeds on one worker: the same report but for the worker time.
    let again = dir.join("again.xml");
    racelab(&["sweep", &file_s, "--seeds", "60", "--jobs", "1", "--junit", &again.display().to_string()]);
    let strip = |x: &str| x.split(" time=\"").map(|p| p.split_once('"').map_or(p, |(_, r)| r)).collect::<String>();
    assert_eq!(
        strip(&std::fs::read_to_string(&xml).expect("read")),
        strip(&std::fs::read_to_string(&again).expect("read"))
    );
    // A sweep stopped early: the variants it never reached are skipped, not passed.
    let o = racelab(&["sweep", &file_s, "--stop-after", "1", "--jobs", "1", "--junit", &xml_s]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o).1);
    let xml = std::fs::read_to_string(&xml).expect("the report");
    let cases = junit_cases(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    let case = |name: &str| cases.iter().find(|c| c.1 == name).map(|c| c.2).expect("a case");
    assert_eq!(case("dispose_unawaited"), "skipped", "{xml}");
    assert!(xml.contains("<skipped message=\"not run (the sweep stopped first)\"/>"), "{xml}");
    // Cut short, the first variant broke only what the shipped file expects of it: met.
    let o =
        racelab(&["sweep", "scenarios/dispose_during_ice.toml", "--stop-after", "1", "--jobs", "1", "--junit", &xml_s]);
    assert_eq!(o.status.code(), Some(1));
    let xml = std::fs::read_to_string(&xml_s).expect("the report");
    let cases = junit_cases(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    assert_eq!(cases.iter().find(|c| c.1 == "flag_callback").map(|c| c.2), Some("pass"), "{xml}");
    // A bad path for the report: exit 2 and a message, after the sweep.
    let o = racelab(&["sweep", &file_s, "--seeds", "2", "--junit", &dir.join("no/such/dir.xml").display().to_string()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("error: cannot write "), "{}", text(&o).1);
}

#[test]
fn matrix_writes_junit_judged_against_the_expectations() {
    let dir = temp_dir("matrix-junit");
    let file = wrong_expectation(&dir);
    let xml = dir.join("matrix.xml");
    let o = racelab(&["matrix", &file.display().to_string(), "--seeds", "60", "--junit", &xml.display().to_string()]);
    // The matrix measures: its exit code stays 0; the report says which expectation broke.
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
    assert!(text(&o).0.starts_with("### dispose_during_ice "), "the table still prints: {}", text(&o).0);
    check_wrong_expectation_report(&std::fs::read_to_string(&xml).expect("the report"), "--strategy pct");
    // The shipped file: every expectation holds over the same seeds.
    let o = racelab(&[
        "matrix",
        "scenarios/dispose_during_ice.toml",
        "--seeds",
        "60",
        "--junit",
        &xml.display().to_string(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    let xml = std::fs::read_to_string(&xml).expect("the report");
    let cases = junit_cases(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    assert!(cases.len() == 9 && cases.iter().all(|c| c.2 == "pass"), "{xml}");
}

#[test]
fn run_saves_shrunk_regressions_of_variants_expected_to_hold_and_replays_them() {
    let dir = temp_dir("save-regressions");
    let file = wrong_expectation(&dir);
    let file_s = file.display().to_string();
    let folder = dir.join("racelab-regressions");
    let o = racelab(&["run", &file_s, "--seeds", "60", "--save-regressions"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(!out.contains("REGRESSION"), "nothing to replay the first time: {out}");
    let saved: Vec<_> = std::fs::read_dir(&folder).expect("saved").map(|e| e.expect("entry").path()).collect();
    // Only the variant expected to hold: the eight expected to fail keep no file.
    assert_eq!(saved.len(), 1, "{saved:?}\n{err}");
    let name = saved[0].file_name().expect("a name").to_string_lossy().into_owned();
    assert!(name.starts_with("dispose_during_ice.flag_callback.seed") && name.ends_with(".json"), "{name}");
    assert!(err.contains(&format!("saved regression {}", saved[0].display())), "{err}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&saved[0]).expect("read")).expect("JSON");
    assert!(json["shrunk"].is_object(), "shrunk before it is kept: {json}");
    assert_eq!(json["file"], "../wrong.toml", "named from the regression folder");
    // The next run replays it first and fails while the variant still breaks on it.
    let o = racelab(&["run", &file_s, "--variant", "flag_callback", "--seeds", "60", "--save-regressions"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(
        out.starts_with(&format!(
            "dispose_during_ice: REGRESSION: {}: regression still fails where `flag_callback` is expected to hold: ",
            saved[0].display()
        )),
        "{out}"
    );
    // Not a new failure: no second file.
    assert!(err.contains("not saved: a regression of dispose_during_ice / flag_callback already fails"), "{err}");
    assert_eq!(std::fs::read_dir(&folder).expect("folder").count(), 1);
    // The kept file replays from anywhere: its scenario is named relative to it.
    let o = racelab(&["replay", &saved[0].display().to_string()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
    // A sweep saves the same way, once.
    std::fs::remove_dir_all(&folder).expect("clean");
    let o = racelab(&["sweep", &file_s, "--seeds", "60", "--jobs", "2", "--save-regressions"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o).1);
    let saved: Vec<_> = std::fs::read_dir(&folder).expect("saved").map(|e| e.expect("entry").path()).collect();
    assert_eq!(saved.len(), 1, "{saved:?}\n{}", text(&o).1);
    // A holding variant that a regression breaks fails the run even over seeds that pass.
    let o = racelab(&["run", &file_s, "--variant", "flag_callback", "--seeds", "1"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o).0);
    assert!(text(&o).0.starts_with("dispose_during_ice: REGRESSION: "), "{}", text(&o).0);
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let dir = temp_dir("colour");
    let file = wrong_expectation(&dir);
    let file_s = file.display().to_string();
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_racelab"));
        cmd.args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
        for var in ["NO_COLOR", "CLICOLOR_FORCE", "CLICOLOR", "GITHUB_ACTIONS"] {
            cmd.env_remove(var);
        }
        cmd.envs(env.iter().copied()).output().expect("runs")
    };
    let args = ["run", &file_s, "--seeds", "60"];
    let plain = run(&args, &[]);
    assert_eq!(plain.status.code(), Some(1));
    assert!(!plain.stdout.contains(&0x1b), "piped: no colour");
    let with = |color: &str, env: &[(&str, &str)]| {
        let mut a = args.to_vec();
        a.extend(["--color", color]);
        run(&a, env)
    };
    // --color always: the results are painted; without the escapes it is the plain output.
    let always = with("always", &[]);
    let (out, _) = text(&always);
    assert!(out.contains("\u{1b}["), "{out}");
    for word in ["FAIL", "UNEXPECTED", "as expected"] {
        assert!(out.split('\u{1b}').any(|part| part.contains(&format!("m{word}"))), "{word} painted: {out:?}");
    }
    let plain_out = unclocked(&text(&plain).0);
    assert_eq!(
        unclocked(&anstream::adapter::strip_str(&out).to_string()),
        plain_out,
        "colour adds escapes and nothing else"
    );
    // never, NO_COLOR: not a byte of colour, byte for byte what a pipe gets (but the clock).
    assert_eq!(unclocked(&text(&with("never", &[])).0), plain_out);
    assert_eq!(unclocked(&text(&with("never", &[("CLICOLOR_FORCE", "1")])).0), plain_out);
    assert_eq!(unclocked(&text(&run(&args, &[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")])).0), plain_out);
    // CLICOLOR_FORCE colours a pipe under auto; --color always wins over NO_COLOR.
    assert!(run(&args, &[("CLICOLOR_FORCE", "1")]).stdout.contains(&0x1b));
    assert!(with("always", &[("NO_COLOR", "1")]).stdout.contains(&0x1b));
    // Errors: the header and the snippet are painted, the location line is kept.
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "name = \"x\"\nmodel = \"signaling\"\nseeds = \"many\"\n").expect("write");
    let bad_s = bad.display().to_string();
    let plain = run(&["run", &bad_s], &[]);
    assert_eq!(plain.status.code(), Some(2));
    let (_, err) = text(&plain);
    assert!(err.starts_with(&format!("error: {bad_s}:3:9: ")), "{err}");
    assert!(err.contains("\n3 | seeds = \"many\"\n  |         ^"), "a caret under the column: {err}");
    let coloured = run(&["run", &bad_s, "--color", "always"], &[]);
    assert_eq!(coloured.status.code(), Some(2));
    let (_, cerr) = text(&coloured);
    assert!(cerr.starts_with("\u{1b}[") && cerr.contains("error:\u{1b}[0m "), "{cerr:?}");
    assert_eq!(anstream::adapter::strip_str(&cerr).to_string(), err);
    assert!(!text(&run(&["run", &bad_s, "--color", "never"], &[])).1.contains('\u{1b}'));
    assert_eq!(racelab(&["run", &bad_s, "--color", "sometimes"]).status.code(), Some(2));
}
