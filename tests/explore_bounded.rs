//! The bounded search: it finds every known failure with its fewest deviations, enumerates
//! every tape exactly once (the same set as the exhaustive search), certifies fixes, and its
//! run N is seed N of `--strategy bounded` in every command.

use racelab::engine::{Registry, Sim, TraceLevel};
use racelab::explore::exhaustive::{Bounds, explore};
use racelab::explore::pool::drive_one;
use racelab::explore::strategy::bounded::{self, Bounded, Conclusion};
use racelab::explore::strategy::{Spec, StrategyKind};
use racelab::explore::sweep::{Collect, Ended, SweepConfig, Target, sweep, targets};
use racelab::explore::verify::{VerifyConfig, verify};
use racelab::scenario::{Expected, Scenario};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

mod support;
use support::{racelab, temp_dir, text};

fn scenario_files() -> Vec<PathBuf> {
    racelab::testing::scenario_files(&[concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios")])
}

fn load(name: &str) -> Vec<Target> {
    let path = format!("{}/scenarios/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    let s = Scenario::load(&Registry::builtin(), &path).unwrap_or_else(|e| panic!("{e}"));
    targets(&format!("scenarios/{name}.toml"), s, None).expect("targets")
}

/// Every shipped (scenario, variant) whose file expects it to fail, with the checks it may break.
fn expected_to_fail() -> Vec<(Target, Vec<String>, bool)> {
    let mut out = Vec::new();
    for file in scenario_files() {
        let scenario = Scenario::load(&Registry::builtin(), &file).unwrap_or_else(|e| panic!("{e}"));
        let rel = format!("scenarios/{}", file.file_name().expect("a name").to_string_lossy());
        for t in targets(&rel, scenario.clone(), None).expect("targets") {
            match scenario.expectation(&t.variant).map(|e| e.expected.clone()) {
                Some(Expected::Violates(names)) => out.push((t, names, true)),
                Some(Expected::Includes(names)) => out.push((t, names, false)),
                _ => {}
            }
        }
    }
    out
}

/// The issue's acceptance test: for every (scenario, variant) a shipped file expects to fail,
/// `sweep --strategy bounded` finds a failure within a modest budget, breaking first an
/// invariant the file expects, and says with how many deviations. The table is a snapshot, so a model change
/// that makes a race need more (or fewer) deviations shows in review.
#[test]
fn the_bounded_search_finds_every_expected_failure_with_its_fewest_deviations() {
    let pairs = expected_to_fail();
    assert!(pairs.len() >= 60, "the shipped scenarios have failing variants ({})", pairs.len());
    let mut cfg = SweepConfig::new(pairs.iter().map(|(t, _, _)| t.clone()).collect(), 0..1);
    cfg.strategy = StrategyKind::Bounded;
    // Most races need 0-3 deviations within a few thousand runs (rapid_reconnect's overlap: 3,
    // in 65,846). A few need three deviations behind a second level too large for a test:
    // dispose_during_ice's has ~245,000 runs (its shipped_stream, request_map, state_machine
    // and dispose_unawaited fail at run ~267,000 with 3), rapid_reconnect/state_machine's third
    // level holds 48 million. Those rows say what the budget certified instead; the snapshot
    // pins which rows they are, so a model change that moves a race across the budget shows.
    cfg.bounded = bounded::Bounds { max_deviations: 3, budget: 70_000, stop_at_failure: true };
    cfg.jobs = 2;
    let mut found = Collect::default();
    let summary = sweep(&cfg, &AtomicBool::new(false), &mut found).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(summary.ended, Ended::Complete);
    let mut table = String::new();
    let mut problems = Vec::new();
    for (i, (t, names, exact)) in pairs.iter().enumerate() {
        let Some((_, f)) = found.failures.iter().find(|(j, _)| *j == i) else {
            let conclusion = summary.conclusions[i].clone().unwrap_or_default();
            if !conclusion.contains("exhaustive at this bound") {
                problems.push(format!("{}: neither a failure nor a certificate: {conclusion}", t.name()));
            }
            let _ = writeln!(table, "{:<50} beyond the budget: {conclusion}", t.name());
            continue;
        };
        let deviations = f.params["deviations"].as_array().map_or(0, Vec::len);
        let first = f.verdict.failed_check().unwrap_or_default();
        if *exact && !names.iter().any(|n| n == first) {
            problems.push(format!("{}: breaks {first} first, which its file does not expect", t.name()));
        }
        // Later breaks the file's seeds never show are listed, not refused: the file speaks
        // of its seeds under the default strategy, and the calm run is not among them.
        let unlisted: Vec<&str> = f.checks().into_iter().filter(|c| !names.iter().any(|n| n == c)).collect();
        let note = if *exact && !unlisted.is_empty() {
            format!(" (also {}, which no seed of the file breaks)", unlisted.join(", "))
        } else {
            String::new()
        };
        let devs = if deviations == 1 { "1 deviation ".to_owned() } else { format!("{deviations} deviations") };
        let _ = writeln!(table, "{:<50} {devs}, run {:>6}: {first}{note}", t.name(), f.seed);
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!("bounded__fewest_deviations", table));
}

/// A model-free choice tree and a tiny task scenario: with no bound on deviations, the bounded
/// search runs every tape exactly once, the same tapes the exhaustive search runs.
#[test]
fn with_no_bound_it_runs_every_tape_once_as_the_exhaustive_search_does() {
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
    let tiny = Scenario::parse(&Registry::builtin(), "tiny.toml", TINY).unwrap_or_else(|e| panic!("{e}"));
    let token = load("token_refresh_race").into_iter().find(|t| t.variant == "single_flight").expect("a variant");
    for (scenario, variant, count) in [(&tiny, "default", 16), (&*token.scenario, "single_flight", 8064)] {
        let mut sim = Sim::new(scenario, variant).unwrap_or_else(|e| panic!("{e}"));
        sim.trace_level(TraceLevel::Off);
        let bounds = bounded::Bounds { max_deviations: u32::MAX, budget: u64::MAX, stop_at_failure: true };
        let mut search = Bounded::new(bounds);
        let mut tapes = BTreeSet::new();
        drive_one(&mut sim, &mut search, |ran| {
            let values: Vec<u32> = ran.choices.as_ref().expect("recorded").iter().map(|c| c.value).collect();
            assert!(tapes.insert(values), "run {} repeats a tape", ran.seed);
            true
        });
        assert_eq!(tapes.len(), count, "{variant}");
        assert!(matches!(search.conclusion_kind(), Conclusion::Certified { everything: true, .. }));
        assert!(search.summary().contains("every run there is"), "{}", search.summary());
        let exhaustive = explore(&mut sim, Bounds::default());
        assert_eq!(exhaustive.tapes as usize, count);
    }
}

/// Levels run in order: every run of level k has exactly k non-calm choices, and a level
/// starts only when the one before it has run in full.
#[test]
fn runs_come_level_by_level_with_exactly_that_many_deviations() {
    let t = load("retry_returns_none").into_iter().find(|t| t.variant == "raises").expect("a variant");
    let mut sim = Sim::new(&t.scenario, &t.variant).unwrap_or_else(|e| panic!("{e}"));
    let mut search = Bounded::new(bounded::Bounds { max_deviations: 2, budget: 1_000_000, stop_at_failure: true });
    let mut levels = Vec::new();
    drive_one(&mut sim, &mut search, |ran| {
        levels.push(racelab::engine::tape::non_calm(ran.choices.as_deref().expect("recorded")));
        true
    });
    assert_eq!(levels[0], 0, "the calm run first");
    assert!(levels.windows(2).all(|w| w[0] <= w[1]), "levels never go back");
    assert!(levels.contains(&2) && levels.iter().all(|&k| k <= 2));
    assert_eq!(search.conclusion_kind(), Conclusion::Certified { bound: 2, everything: false });
    assert!(search.summary().starts_with("no violation of any invariant within 2 deviations"), "{}", search.summary());
}

/// A fix gets a certificate; a bug gets its failure with the fewest deviations and the
/// command that reproduces it; each agrees with its file's expectation.
#[test]
fn verify_certifies_fixes_and_measures_failures() {
    let mut t = load("duplicate_replay_on_reconnect");
    t.extend(load("restart_resume"));
    let cfg = VerifyConfig { budget: 3_000, max_deviations: 3, jobs: 2, deadline: None };
    let rows = verify(&t, &cfg, &AtomicBool::new(false)).unwrap_or_else(|e| panic!("{e}"));
    for r in &rows {
        assert!(r.agrees.is_ok(), "{}: {:?}", r.target.name(), r.agrees);
    }
    let row = |name: &str| rows.iter().find(|r| r.target.name() == name).expect("a row");
    let fixed = row("duplicate_replay_on_reconnect/try_send_drop");
    assert_eq!(fixed.conclusion, Conclusion::Certified { bound: 1, everything: false });
    assert_eq!(fixed.runs, 3_000);
    let bug = row("restart_resume/coalescing_worker");
    assert!(matches!(bug.conclusion, Conclusion::Fails { deviations: 2, .. }), "{:?}", bug.conclusion);
    let cmd = bug.reproduce().expect("a command");
    assert!(cmd.ends_with("--seed 285 --strategy bounded"), "{cmd}");
}

/// Seed N of `--strategy bounded` is run N of the search: the library, `racelab run` and
/// `racelab explain` all show the run the sweep reported.
#[test]
fn seed_n_of_the_bounded_search_is_the_same_run_in_every_command() {
    let t: Vec<Target> = load("restart_resume").into_iter().filter(|t| t.variant == "coalescing_worker").collect();
    let mut cfg = SweepConfig::new(t.clone(), 0..1);
    cfg.strategy = StrategyKind::Bounded;
    let mut found = Collect::default();
    sweep(&cfg, &AtomicBool::new(false), &mut found).unwrap_or_else(|e| panic!("{e}"));
    let f = &found.failures.first().expect("a failure").1;
    assert_eq!(f.params["deviations"].as_array().map(Vec::len), Some(2), "{f:?}");

    let mut sim = Sim::new(&t[0].scenario, &t[0].variant).unwrap_or_else(|e| panic!("{e}"));
    let again = Spec::new(StrategyKind::Bounded).run_seed(&mut sim, f.seed).expect("the search reaches it");
    assert_eq!((&again.outcome.verdict, &again.outcome.trace_hash), (&f.verdict, &f.trace_hash));
    assert_eq!(again.choices.as_deref(), Some(&f.tape[..]));

    let seed = f.seed.to_string();
    let args = ["scenarios/restart_resume.toml", "--variant", "coalescing_worker", "--seed", &seed];
    let o = racelab(&[&["run"][..], &args[..], &["--strategy", "bounded", "--format", "jsonl"][..]].concat());
    let (out, err) = text(&o);
    assert!(out.contains(&f.trace_hash), "{out}{err}");
    let o = racelab(&[&["explain"][..], &args[..], &["--strategy", "bounded"][..]].concat());
    let (out, err) = text(&o);
    assert!(out.contains(&format!("--seed {seed} --strategy bounded")), "the header's command: {out}{err}");
}

/// A time budget only cuts the committed sequence short: what a sweep reports under a
/// deadline is a prefix of what it reports without one.
#[test]
fn a_time_budget_cuts_the_results_short_and_changes_none() {
    let mut t = load("flag_reset_timing");
    t.extend(load("server_switch"));
    let mut cfg = SweepConfig::new(t, 0..3000);
    cfg.strategy = StrategyKind::Random;
    cfg.jobs = 2;
    let mut whole = Collect::default();
    sweep(&cfg, &AtomicBool::new(false), &mut whole).unwrap_or_else(|e| panic!("{e}"));
    cfg.deadline = Some(Instant::now() + Duration::from_millis(150));
    let mut cut = Collect::default();
    let summary = sweep(&cfg, &AtomicBool::new(false), &mut cut).unwrap_or_else(|e| panic!("{e}"));
    if summary.ended == Ended::OutOfTime {
        assert!(cut.failures.len() < whole.failures.len());
    }
    assert_eq!(cut.failures[..], whole.failures[..cut.failures.len()]);
}

#[test]
fn the_command_line_reports_deviations_certificates_and_refuses_bad_bounds() {
    let o = racelab(&[
        "sweep",
        "scenarios/flag_reset_timing.toml",
        "scenarios/duplicate_replay_on_reconnect.toml",
        "--strategy",
        "bounded",
        "--budget",
        "2000",
        "--jobs",
        "2",
    ]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(out.contains("flag_callback seed 0 (bounded, 0 deviations): violates candidate_to_own_session"), "{out}");
    assert!(out.contains("injected_client seed 17 (bounded, 1 deviation): liveness connect_settles"), "{out}");
    assert!(
        out.contains(
            "racelab run scenarios/flag_reset_timing.toml --variant injected_client --seed 17 --strategy bounded"
        ),
        "{out}"
    );
    assert!(out.contains("no violation of any invariant within 1 deviation: 2000 runs"), "{out}");

    let o = racelab(&["verify", "scenarios/token_refresh_race.toml", "--jobs", "2"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(out.contains("no violation of any invariant in any run: 8064 runs"), "{out}");

    for args in [
        &["sweep", "scenarios/rapid_reconnect.toml", "--strategy", "bounded", "--seeds", "0..10"][..],
        &["sweep", "scenarios/rapid_reconnect.toml", "--time", "-1"][..],
        &["sweep", "scenarios/rapid_reconnect.toml", "--strategy", "bounded", "--budget", "lots"][..],
        &["verify", "scenarios/nope.toml"][..],
        &["run", "scenarios/rapid_reconnect.toml", "--strategy", "dfs"][..],
        &["matrix", "scenarios/rapid_reconnect.toml", "--strategy", "bounded", "--seeds", "5..9"][..],
    ] {
        let o = racelab(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o).1);
    }
}

/// Reproduce commands are quoted for a POSIX shell when a path needs it.
#[test]
fn reproduce_commands_quote_what_a_shell_would_split() {
    let dir = temp_dir("quote");
    let spaced = dir.join("my races");
    std::fs::create_dir_all(&spaced).expect("dir");
    let file = spaced.join("flag reset.toml");
    std::fs::copy(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/flag_reset_timing.toml"), &file).expect("copy");
    let shown = file.display().to_string();
    let o = racelab(&["sweep", &shown, "--variant", "stream", "--seeds", "0..40", "--stop-after", "1"]);
    let (out, err) = text(&o);
    let cmd = out.lines().find_map(|l| l.trim().strip_prefix("racelab run ")).unwrap_or_else(|| panic!("{out}{err}"));
    assert!(cmd.starts_with(&format!("'{shown}' --variant stream --seed ")), "{cmd}");
}
