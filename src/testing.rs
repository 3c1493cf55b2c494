//! racelab in your own tests: scenario expectations as `#[test]`s, one test per scenario and
//! variant under a directory, regression files replayed first, the determinism self-check,
//! and canonical traces to snapshot.
//!
//! ```no_run
//! // tests/races.rs
//! #[test]
//! fn reconnect_race() {
//!     racelab::testing::assert_scenario("scenarios/reconnect_close_race.toml");
//! }
//!
//! #[test]
//! fn reconnect_race_is_deterministic() {
//!     racelab::testing::assert_deterministic("scenarios/reconnect_close_race.toml", 0..20);
//! }
//! ```
//!
//! One test per scenario file and variant, which `cargo test` and nextest can filter and run in
//! parallel: a test target with `harness = false` in `Cargo.toml`,
//!
//! ```toml
//! [[test]]
//! name = "scenarios"
//! harness = false
//! ```
//!
//! whose `main` hands the directory to [`harness`]:
//!
//! ```text
//! // tests/scenarios.rs
//! fn main() {
//!     racelab::testing::harness(racelab::prelude::Registry::builtin(), &["scenarios"]);
//! }
//! ```
//!
//! Regression files are failures kept in a `racelab-regressions/` folder beside the scenario
//! (as proptest keeps `proptest-regressions/`). Every check here replays them first: a
//! regression of a variant expected to hold must pass now, and one of a variant expected to
//! fail must still replay to the same verdict and trace.
//!
//! Relative paths are taken from the directory `cargo test` runs tests in (the crate's root).

use crate::engine::replay::Failure;
use crate::engine::tape::{ReplayMode, Tape};
use crate::engine::{Registry, Sim, TraceLevel};
use crate::explore::run::{judge, run_variant};
use crate::explore::strategy::StrategyKind;
use crate::report::jsonl;
use crate::report::shell::{replay_command, run_command};
use crate::scenario::{Expected, Scenario};
use std::fmt::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// The folder beside a scenario file that holds its regression files.
pub const REGRESSIONS: &str = "racelab-regressions";

/// What a scenario check found wrong, ready to print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failed(pub String);

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Failed {}

/// Check every expectation of the scenario at `path` with the shipped models; panic with
/// what did not hold and the command that shows it.
#[track_caller]
pub fn assert_scenario(path: impl AsRef<Path>) {
    assert_scenario_in(&Registry::builtin(), path);
}

/// [`assert_scenario`] with the models of `registry`.
#[track_caller]
pub fn assert_scenario_in(registry: &Registry, path: impl AsRef<Path>) {
    if let Err(e) = check_scenario(registry, path.as_ref(), None) {
        panic!("{e}");
    }
}

/// Replay the scenario's regression files, then check the expectation of each variant (or
/// only `variant`) over the file's seeds. `Ok` holds one line per variant checked.
pub fn check_scenario(registry: &Registry, path: &Path, variant: Option<&str>) -> Result<Vec<String>, Failed> {
    let scenario = Scenario::load(registry, path).map_err(|e| Failed(e.to_string()))?;
    check_regressions(path, &scenario, variant)?;
    let variants: Vec<&String> = scenario.variants.iter().filter(|v| variant.is_none_or(|w| w == *v)).collect();
    if variants.is_empty() {
        return Err(Failed(format!(
            "{}: no variant `{}`; expected one of: {}",
            path.display(),
            variant.unwrap_or(""),
            scenario.variants.join(", ")
        )));
    }
    let mut lines = Vec::new();
    for v in variants {
        let report = run_variant(&scenario, v, scenario.seeds.clone()).map_err(|e| Failed(e.to_string()))?;
        if let Err(why) = judge(&scenario, &report) {
            let mut msg = format!("{} / {v}: {why}", path.display());
            if let Some(f) = &report.first_failure {
                let cmd = run_command("racelab", &path.display().to_string(), v, f.seed, StrategyKind::DEFAULT.name());
                let _ = write!(msg, "\n  see it: {cmd}");
            }
            return Err(Failed(msg));
        }
        lines.push(format!("{v}: {} seeds as expected", report.runs));
    }
    Ok(lines)
}

/// Replay every regression file of `scenario` (for `variant`, or all): `Err` names the first
/// that still fails where the variant is expected to hold, or replays differently.
pub fn check_regressions(path: &Path, scenario: &Scenario, variant: Option<&str>) -> Result<(), Failed> {
    for (file, failure) in regressions(path)? {
        if variant.is_some_and(|v| v != failure.variant) || failure.scenario != scenario.name {
            continue;
        }
        replay_regression(scenario, &file, &failure)?;
    }
    Ok(())
}

/// The regression files beside `scenario_path` (sorted by name), read.
pub fn regressions(scenario_path: &Path) -> Result<Vec<(PathBuf, Failure)>, Failed> {
    let dir = scenario_path.parent().unwrap_or(Path::new(".")).join(REGRESSIONS);
    let Ok(entries) = std::fs::read_dir(&dir) else { return Ok(Vec::new()) };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files.into_iter().map(|f| Failure::load(&f).map(|failure| (f, failure)).map_err(Failed)).collect()
}

fn replay_regression(scenario: &Scenario, file: &Path, failure: &Failure) -> Result<(), Failed> {
    if !scenario.variants.contains(&failure.variant) {
        return Err(Failed(format!(
            "{}: regression of variant `{}`, which the scenario no longer has",
            file.display(),
            failure.variant
        )));
    }
    let mut sim = Sim::new(scenario, &failure.variant).map_err(|e| Failed(e.to_string()))?;
    let outcome = sim.run(Tape::replay(failure.tape.clone(), ReplayMode::Strict), failure.seed);
    let holds = matches!(scenario.expectation(&failure.variant).map(|e| &e.expected), Some(Expected::Holds));
    let replay = replay_command("racelab", file);
    if holds {
        if !outcome.verdict.is_pass() {
            return Err(Failed(format!(
                "{}: regression still fails where `{}` is expected to hold: {}\n  see it: {replay}",
                file.display(),
                failure.variant,
                outcome.verdict.summary()
            )));
        }
    } else if outcome.verdict != failure.verdict || outcome.trace_hash != failure.trace_hash {
        return Err(Failed(format!(
            "{}: regression replays differently: saved {} (trace {}), now {} (trace {})\n  see it: {replay}",
            file.display(),
            failure.verdict.summary(),
            failure.trace_hash,
            outcome.verdict.summary(),
            outcome.trace_hash
        )));
    }
    Ok(())
}

/// Save `failure` of the scenario at `scenario_path` as a regression file beside it; the path
/// written. The file name is derived from the scenario, variant and seed, made safe.
pub fn save_regression(scenario_path: &Path, failure: &Failure) -> std::io::Result<PathBuf> {
    let dir = scenario_path.parent().unwrap_or(Path::new(".")).join(REGRESSIONS);
    std::fs::create_dir_all(&dir)?;
    let stem =
        crate::report::filename::safe_stem(&format!("{}.{}.seed{}", failure.scenario, failure.variant, failure.seed));
    let path = dir.join(format!("{stem}.json"));
    std::fs::write(&path, failure.to_json())?;
    Ok(path)
}

/// Check that every seed in `seeds` runs the same on a reused simulation as on a fresh one,
/// for every variant of the scenario at `path`, and that no run leaves state behind.
#[track_caller]
pub fn assert_deterministic(path: impl AsRef<Path>, seeds: Range<u64>) {
    assert_deterministic_in(&Registry::builtin(), path, seeds);
}

/// [`assert_deterministic`] with the models of `registry`.
#[track_caller]
pub fn assert_deterministic_in(registry: &Registry, path: impl AsRef<Path>, seeds: Range<u64>) {
    let path = path.as_ref();
    let scenario = Scenario::load(registry, path).unwrap_or_else(|e| panic!("{e}"));
    for v in &scenario.variants {
        if let Err(e) = Sim::check_determinism(&scenario, v, seeds.clone()) {
            panic!("{} / {v}: {e}", path.display());
        }
    }
}

/// The canonical trace (JSON Lines) of one seed of `variant`: stable across runs and
/// machines, for a snapshot test (`insta::assert_snapshot!(racelab::testing::trace(...))`).
#[track_caller]
pub fn trace(path: impl AsRef<Path>, variant: &str, seed: u64) -> String {
    trace_in(&Registry::builtin(), path, variant, seed)
}

/// [`trace`] with the models of `registry`.
#[track_caller]
pub fn trace_in(registry: &Registry, path: impl AsRef<Path>, variant: &str, seed: u64) -> String {
    let scenario = Scenario::load(registry, path.as_ref()).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Sim::new(&scenario, variant).unwrap_or_else(|e| panic!("{e}"));
    sim.trace_level(TraceLevel::Full);
    let outcome = sim.seed(seed);
    jsonl::render(sim.trace(), sim.names(), &outcome)
}

/// Every `*.toml` under `dirs` (recursively, sorted), skipping regression folders.
pub fn scenario_files(dirs: &[impl AsRef<Path>]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = dirs.iter().map(|d| d.as_ref().to_path_buf()).collect();
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == REGRESSIONS) {
                continue;
            }
            if let Ok(entries) = std::fs::read_dir(&p) {
                stack.extend(entries.filter_map(|e| e.ok().map(|e| e.path())));
            }
        } else if p.extension().is_some_and(|x| x == "toml") {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// A test harness with one test per scenario file and variant under `dirs`, named
/// `<file stem>::<variant>`, each checking the variant's regressions and expectation. Takes
/// the usual test arguments (a name filter, `--list`, `--exact`, `--test-threads`, ...), so
/// `cargo test` and nextest filter and run the tests as any others. Exits with the result.
pub fn harness(registry: Registry, dirs: &[&str]) -> ! {
    use libtest_mimic::{Arguments, Trial};
    let args = Arguments::from_args();
    let registry = std::sync::Arc::new(registry);
    let mut trials = Vec::new();
    for file in scenario_files(dirs) {
        let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        match Scenario::load(&registry, &file) {
            Ok(scenario) => {
                for v in scenario.variants.clone() {
                    let (registry, file) = (registry.clone(), file.clone());
                    trials.push(Trial::test(format!("{stem}::{v}"), move || {
                        check_scenario(&registry, &file, Some(&v)).map(|_| ()).map_err(|e| e.0.into())
                    }));
                }
            }
            Err(e) => {
                let msg = e.to_string();
                trials.push(Trial::test(format!("{stem}::parse"), move || Err(msg.into())));
            }
        }
    }
    libtest_mimic::run(&args, trials).exit()
}

/// `s` quoted for a POSIX shell when it needs to be (see [`crate::report::shell::quote`]).
pub fn shell(s: impl AsRef<Path>) -> String {
    crate::report::shell::quote(&s.as_ref().to_string_lossy())
}
