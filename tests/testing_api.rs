//! `racelab::testing`, the helpers for users' own tests: expectations as assertions,
//! regression files replayed first, safe file names, canonical traces to snapshot.

mod support;

use racelab::engine::replay::Failure;
use racelab::prelude::*;
use racelab::testing::{self, REGRESSIONS, check_scenario, regressions, save_regression};
use std::path::{Path, PathBuf};
use support::temp_dir;

const SCENARIO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/strikes_lost_increment.toml");

/// A copy of the lost-increment scenario in a scratch folder of its own.
fn scratch(name: &str) -> PathBuf {
    let dir = temp_dir(name);
    let path = dir.join("strikes_lost_increment.toml");
    std::fs::copy(SCENARIO, &path).expect("copies");
    path
}

/// The first failing seed of the buggy variant, as a failure file.
fn a_failure(path: &Path) -> Failure {
    let scenario = Scenario::load(&Registry::builtin(), path).expect("loads");
    let mut sim = Sim::new(&scenario, "await_between").expect("builds");
    let out = (0..200).map(|s| sim.seed(s)).find(|o| !o.verdict.is_pass()).expect("the race shows");
    Failure {
        file: path.display().to_string(),
        scenario: out.scenario.clone(),
        variant: out.variant.clone(),
        seed: out.seed,
        strategy: "random".into(),
        params: serde_json::Value::Null,
        also: Failure::also_of(&out),
        verdict: out.verdict.clone(),
        trace_hash: out.trace_hash.clone(),
        tape: sim.choices().to_vec(),
        shrunk: None,
    }
}

#[test]
fn a_shipped_scenario_meets_its_expectations() {
    testing::assert_scenario(SCENARIO);
    let lines = check_scenario(&Registry::builtin(), Path::new(SCENARIO), Some("await_between")).expect("holds");
    assert_eq!(lines.len(), 1);
}

#[test]
#[should_panic(expected = "locked: expected no_lost_strike to fail, but all 300 seeds passed")]
fn an_unmet_expectation_panics_with_what_failed() {
    let path = scratch("unmet");
    let text = std::fs::read_to_string(&path).expect("reads");
    let text = text.replace(
        "variant = [\"getattr_setattr\", \"locked\"]\nholds = true",
        "variant = \"getattr_setattr\"\nholds = true\n\n[[expect]]\nvariant = \"locked\"\nviolates = \"no_lost_strike\"",
    );
    std::fs::write(&path, text).expect("writes");
    testing::assert_scenario(&path);
}

#[test]
fn a_regression_of_a_failing_variant_must_replay_the_same() {
    let path = scratch("same");
    let failure = a_failure(&path);
    let saved = save_regression(&path, &failure).expect("saves");
    assert!(saved.starts_with(path.parent().expect("dir").join(REGRESSIONS)));
    assert_eq!(regressions(&path).expect("reads").len(), 1);
    check_scenario(&Registry::builtin(), &path, None).expect("replays and holds");

    // The same file with another trace hash: the model changed under it.
    let mut doctored = failure.clone();
    doctored.trace_hash = "0000000000000000".into();
    std::fs::write(&saved, doctored.to_json()).expect("writes");
    let e = check_scenario(&Registry::builtin(), &path, None).expect_err("caught").0;
    assert!(e.contains("regression replays differently"), "{e}");
    assert!(e.contains("see it: racelab replay"), "{e}");
}

#[test]
fn a_regression_of_a_variant_expected_to_hold_must_pass() {
    let path = scratch("holds");
    let failure = a_failure(&path);
    save_regression(&path, &failure).expect("saves");
    // Someone declares the race fixed without fixing it: the regression still fails.
    let text = std::fs::read_to_string(&path).expect("reads");
    let text = text.replace(
        "variant = \"await_between\"\nviolates = \"no_lost_strike\"",
        "variant = \"await_between\"\nholds = true",
    );
    std::fs::write(&path, text).expect("writes");
    let e = check_scenario(&Registry::builtin(), &path, None).expect_err("the regression still fails").0;
    assert!(e.contains("regression still fails where `await_between` is expected to hold"), "{e}");

    // The race's tape kept for the fixed variant passes there: the lock closes the window.
    let mut fixed = failure;
    fixed.variant = "locked".into();
    let path = scratch("holds_fixed");
    save_regression(&path, &fixed).expect("saves");
    check_scenario(&Registry::builtin(), &path, None).expect("the fix passes the race's tape");
}

#[test]
fn regression_file_names_stay_in_their_folder() {
    let path = scratch("names");
    let mut failure = a_failure(&path);
    failure.scenario = "../../escape".into();
    failure.variant = "$(touch PWNED)".into();
    let saved = save_regression(&path, &failure).expect("saves");
    let dir = path.parent().expect("dir").join(REGRESSIONS);
    assert_eq!(saved.parent(), Some(dir.as_path()), "{}", saved.display());
    let name = saved.file_name().expect("a name").to_string_lossy().into_owned();
    assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)), "{name}");
}

#[test]
fn traces_for_snapshots_are_canonical_and_stable() {
    let a = testing::trace(SCENARIO, "await_between", 3);
    let b = testing::trace(SCENARIO, "await_between", 3);
    assert_eq!(a, b);
    assert!(a.lines().all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()));
    testing::assert_deterministic(SCENARIO, 0..3);
}

#[test]
fn shell_quoting_leaves_plain_words_and_quotes_the_rest() {
    assert_eq!(testing::shell("scenarios/x.toml"), "scenarios/x.toml");
    assert_eq!(testing::shell("a b"), "'a b'");
    assert_eq!(testing::shell("$(touch PWNED)"), "'$(touch PWNED)'");
    assert_eq!(testing::shell("it's"), "'it'\\''s'");
    assert_eq!(testing::shell(""), "''");
}
