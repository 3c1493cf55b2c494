//! Sweeps through the library: they find the known failures, their failures do not depend
//! on the number of workers, and shards merge to the unsharded sweep.

use racelab::engine::Registry;
use racelab::engine::replay::Failure;
use racelab::engine::{Sim, Tape};
use racelab::explore::merge::merge_files;
use racelab::explore::strategy::{Spec, StrategyKind};
use racelab::explore::sweep::{Collect, Ended, KEEP_DEFAULT, Shard, SweepConfig, Target, sweep, targets};
use racelab::scenario::{Expected, Scenario};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

mod support;

fn scenario_files() -> Vec<PathBuf> {
    racelab::testing::scenario_files(&[concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios")])
}

fn load(name: &str) -> Vec<Target> {
    let path = format!("{}/scenarios/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    let s = Scenario::load(&Registry::builtin(), &path).unwrap_or_else(|e| panic!("{e}"));
    targets(&format!("scenarios/{name}.toml"), s, None).expect("targets")
}

fn run(cfg: &SweepConfig) -> (Vec<(usize, Failure)>, Ended) {
    let mut found = Collect::default();
    let summary = sweep(cfg, &AtomicBool::new(false), &mut found).unwrap_or_else(|e| panic!("{e}"));
    (found.failures, summary.ended)
}

/// Every variant a shipped scenario expects to fail is caught by a sweep of the file's seeds,
/// first with one of the invariants it names; whatever model the scenario belongs to.
#[test]
fn sweeps_find_the_known_failures() {
    let mut checked = 0;
    for file in scenario_files() {
        let scenario = Scenario::load(&Registry::builtin(), &file).unwrap_or_else(|e| panic!("{e}"));
        for t in targets(&file.display().to_string(), scenario.clone(), None).expect("targets") {
            let Some(Expected::Violates(names)) = scenario.expectation(&t.variant).map(|e| e.expected.clone()) else {
                continue;
            };
            let mut cfg = SweepConfig::new(vec![t.clone()], scenario.seeds.clone());
            cfg.strategy = StrategyKind::Random;
            cfg.stop_after = Some(1);
            let (found, ended) = run(&cfg);
            assert_eq!(ended, Ended::StoppedAfter, "{}: no failure in seeds {:?}", t.name(), scenario.seeds);
            let check = found[0].1.verdict.failed_check().unwrap_or_default().to_owned();
            assert!(names.contains(&check), "{}: first failure {check}, expected one of {names:?}", t.name());
            checked += 1;
        }
    }
    assert!(checked >= 10, "the shipped scenarios have failing variants ({checked})");
}

/// Each strategy finds the dispose race of seed 004's code within a few hundred seeds: a
/// candidate sent for a connection dispose() already took out of `_connections`.
#[test]
fn every_strategy_finds_the_dispose_race() {
    let t: Vec<Target> = load("dispose_during_ice").into_iter().filter(|t| t.variant == "flag_callback").collect();
    for kind in StrategyKind::SEEDED {
        let mut cfg = SweepConfig::new(t.clone(), 0..400);
        cfg.strategy = kind;
        let (found, _) = run(&cfg);
        let send = found.iter().find(|(_, f)| f.verdict.failed_check() == Some("no_candidate_for_removed_connection"));
        let (_, f) = send.unwrap_or_else(|| panic!("{kind} found no candidate sent for a removed connection"));
        assert_eq!(f.strategy, kind.name());
        assert!(!f.tape.is_empty(), "failures carry their tape");
        // The tape alone reproduces the run, whatever strategy chose it.
        let mut sim = Sim::new(&t[0].scenario, "flag_callback").expect("builds");
        let again = sim.tape(f.tape.clone());
        assert_eq!((&again.verdict, &again.trace_hash), (&f.verdict, &f.trace_hash), "{kind} seed {}", f.seed);
        // And so does the seed with the strategy.
        let again = Spec::new(kind).run_seed(&mut sim, f.seed).expect("a seeded strategy has every seed");
        assert_eq!(again.outcome.trace_hash, f.trace_hash);
        assert_eq!(again.choices.as_deref(), Some(&f.tape[..]));
    }
}

/// The failures (and their order, tapes and parameters) are the same for 1, 2 and 3 workers,
/// and so is the point where --stop-after stops.
#[test]
fn the_failure_set_does_not_depend_on_jobs() {
    let mut t = load("rapid_reconnect");
    t.extend(load("flag_reset_timing"));
    for kind in StrategyKind::ALL {
        for stop_after in [None, Some(7)] {
            let results: Vec<Vec<(usize, Failure)>> = [1, 2, 3]
                .into_iter()
                .map(|jobs| {
                    let mut cfg = SweepConfig::new(t.clone(), 0..160);
                    cfg.jobs = jobs;
                    cfg.strategy = kind;
                    cfg.stop_after = stop_after;
                    cfg.chunk = 5;
                    // Searches run in parallel within a level, and stop at their first failure.
                    cfg.bounded.budget = 300;
                    cfg.exhaustive.max_tapes = 100;
                    run(&cfg).0
                })
                .collect();
            if kind != StrategyKind::Exhaustive {
                assert!(!results[0].is_empty(), "{kind}: the sweep finds failures");
            }
            assert_eq!(results[0], results[1], "{kind} {stop_after:?}: 1 vs 2 jobs");
            assert_eq!(results[0], results[2], "{kind} {stop_after:?}: 1 vs 3 jobs");
            if let Some(n) = stop_after.filter(|_| kind.is_seeded()) {
                assert_eq!(results[0].len() as u64, n);
            }
        }
    }
}

/// `racelab merge` of `parts`, each written out as a sweep would write it: the lines back as
/// failures.
fn merge(parts: impl IntoIterator<Item = Vec<Failure>>, keep: Option<u64>) -> Vec<Failure> {
    let dir = support::temp_dir(&format!("merge-{}", keep.is_some()));
    let paths: Vec<PathBuf> = parts
        .into_iter()
        .enumerate()
        .map(|(i, part)| {
            let path = dir.join(format!("part{i}.jsonl"));
            let text: String = part.iter().map(|f| f.to_line() + "\n").collect();
            std::fs::write(&path, text).expect("write a part");
            path
        })
        .collect();
    let mut out = Vec::new();
    merge_files(&paths, &mut out, keep).unwrap_or_else(|e| panic!("{e}"));
    String::from_utf8(out)
        .expect("UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// `--shard K/N` for K in 0..N covers every seed once; merged, the shards give the failures
/// of the unsharded sweep, both when every failure is written and when each shard writes only
/// its first few of each kind (the default).
#[test]
fn shards_merge_to_the_unsharded_sweep() {
    let mut t = load("dispose_during_ice");
    t.extend(load("rapid_reconnect"));
    let seeds = 3..203;
    for keep in [None, Some(KEEP_DEFAULT)] {
        let mut cfg = SweepConfig::new(t.clone(), seeds.clone());
        cfg.jobs = 2;
        cfg.keep = keep;
        let whole: Vec<Failure> = run(&cfg).0.into_iter().map(|(_, f)| f).collect();
        let n = 3;
        let mut parts = Vec::new();
        let mut covered = 0;
        for k in 0..n {
            let shard = Shard { index: k, count: n };
            covered += shard.len(&seeds);
            let mut cfg = SweepConfig::new(t.clone(), seeds.clone());
            cfg.shard = shard;
            cfg.keep = keep;
            let part: Vec<Failure> = run(&cfg).0.into_iter().map(|(_, f)| f).collect();
            assert!(part.iter().all(|f| (f.seed - seeds.start) % n == k), "shard {k}/{n} runs only its seeds");
            parts.push(part);
        }
        assert_eq!(covered, seeds.end - seeds.start);
        let merged = merge(parts, keep);
        assert_eq!(merged.len(), whole.len());
        assert_eq!(merged, merge([whole], keep), "keep {keep:?}");
    }
}

/// With the default cap a sweep writes the first failures of each (pair, first broken
/// check) in full and counts the rest: the counts are every failure's, the lines are not.
#[test]
fn a_sweep_writes_the_first_failures_of_each_kind_and_counts_the_rest() {
    let mut cfg = SweepConfig::new(load("dispose_during_ice"), 0..300);
    cfg.jobs = 2;
    let go = |cfg: &SweepConfig| {
        let mut found = Collect::default();
        let summary = sweep(cfg, &AtomicBool::new(false), &mut found).unwrap_or_else(|e| panic!("{e}"));
        (found.failures, summary)
    };
    let (kept, summary) = go(&cfg);
    cfg.keep = None;
    let (all, all_summary) = go(&cfg);
    assert_eq!(summary.progress.failures(), all_summary.progress.failures(), "every failure is counted");
    assert_eq!(kept.len() as u64 + summary.unwritten, all.len() as u64);
    assert!(summary.unwritten > 0, "dispose_during_ice fails on more than {KEEP_DEFAULT} seeds of a variant");
    let mut per_kind = std::collections::BTreeMap::new();
    for (i, f) in &kept {
        *per_kind.entry((*i, f.verdict.failed_check().unwrap_or_default().to_owned())).or_insert(0u64) += 1;
    }
    assert!(per_kind.values().all(|&n| n <= KEEP_DEFAULT), "{per_kind:?}");
    // The lines kept are the first of their kind, in the order the full sweep wrote them.
    let firsts: Vec<&(usize, Failure)> = all
        .iter()
        .filter(|(i, f)| {
            let k = (*i, f.verdict.failed_check().unwrap_or_default().to_owned());
            let n = per_kind.get_mut(&k).expect("a kind the capped sweep kept");
            if *n == 0 {
                return false;
            }
            *n -= 1;
            true
        })
        .collect();
    assert_eq!(firsts.len(), kept.len());
    assert!(firsts.iter().zip(&kept).all(|(a, b)| a.0 == b.0 && a.1 == b.1));
}

/// A seed runs the same in a world that ran other seeds before as in a fresh one (ids are
/// numbered per run): rapid_reconnect/per_peer_map seed 238 once reported a different
/// overdue connection after 237 other runs.
#[test]
fn a_reused_world_runs_a_seed_as_a_fresh_one_does() {
    let t = load("rapid_reconnect");
    let fresh = Sim::new(&t[0].scenario, "per_peer_map").expect("builds").seed(238);
    for history in [0..238, 200..238, 239..300, 100..120] {
        let mut reused = Sim::new(&t[0].scenario, "per_peer_map").expect("builds");
        for seed in history.clone().rev() {
            reused.seed(seed);
        }
        let after = reused.run(Tape::seeded(238), 238);
        assert_eq!(after, fresh, "after seeds {history:?} (in reverse)");
    }
}
