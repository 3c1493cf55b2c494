//! The two dedup windows behave identically: step by step on random id streams, through the
//! tracker's `record_event`, and as whole simulations of every SSE scenario.

use racelab::engine::Registry;
use racelab::engine::Sim;
use racelab::models::sse::tracker::{EventTracker, Recorded};
use racelab::models::sse::window::{IndexedWindow, LinearWindow, SeenWindow, WindowKind};
use racelab::scenario::Scenario;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::PathBuf;
use std::sync::Arc;

/// Id streams with repeats near and far: a mix of fresh ids, recent ones, and old ones.
fn stream(seed: u64, len: usize) -> Vec<u64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut next = 1u64;
    (0..len)
        .map(|_| match rng.random_range(0..4) {
            0 | 1 => {
                next += 1;
                next
            }
            2 => next.saturating_sub(rng.random_range(0..8)),
            _ => rng.random_range(1..=next),
        })
        .collect()
}

#[test]
fn windows_agree_step_by_step() {
    for max_tracked in [0usize, 1, 2, 3, 7, 32, 100] {
        for seed in 0..20 {
            let mut linear = LinearWindow::new(max_tracked);
            let mut indexed = IndexedWindow::new(max_tracked);
            for id in stream(seed, 400) {
                let (a, b) = (linear.contains(&id), indexed.contains(&id));
                assert_eq!(a, b, "max_tracked {max_tracked}, seed {seed}, id {id}: contains");
                if !a {
                    linear.push(id, max_tracked);
                    indexed.push(id, max_tracked);
                }
                assert_eq!(linear.ids(), indexed.ids(), "max_tracked {max_tracked}, seed {seed}, after id {id}");
                assert!(linear.len() <= max_tracked);
            }
        }
    }
}

#[test]
fn trackers_agree_on_record_event_and_last_event_id() {
    for max_tracked in [1usize, 4, 50] {
        for seed in 0..20 {
            let mut linear = EventTracker::<u64>::new(WindowKind::Linear, max_tracked);
            let mut indexed = EventTracker::<u64>::new(WindowKind::Indexed, max_tracked);
            for id in stream(seed, 300) {
                assert_eq!(linear.record_event(&id), indexed.record_event(&id), "seed {seed} id {id}");
                assert_eq!(linear.last_event_id(), indexed.last_event_id());
                assert_eq!(linear.window(), indexed.window());
            }
        }
    }
    // With the seed's string ids too.
    let mut linear = EventTracker::<Arc<str>>::new(WindowKind::Linear, 5);
    let mut indexed = EventTracker::<Arc<str>>::new(WindowKind::Indexed, 5);
    for id in stream(7, 200) {
        let id: Arc<str> = Arc::from(format!("evt-{id}"));
        assert_eq!(linear.record_event(&id), indexed.record_event(&id));
        assert_eq!(linear.last_event_id(), indexed.last_event_id());
    }
}

#[test]
fn record_event_keeps_the_seeds_window_and_last_event_id() {
    let mut t = EventTracker::<u64>::new(WindowKind::Linear, 3);
    for id in [1, 2, 3] {
        assert_eq!(t.record_event(&id), Recorded::New);
    }
    assert_eq!(t.record_event(&2), Recorded::Duplicate);
    assert_eq!(t.last_event_id(), Some(&3), "a duplicate leaves last_event_id alone");
    assert_eq!(t.record_event(&4), Recorded::New);
    assert_eq!(t.window(), vec![2, 3, 4], "the oldest id left the window");
    // Id 1 has left the window: the seed takes it for new and overwrites last_event_id with
    // it, although 4 is newer.
    assert_eq!(t.record_event(&1), Recorded::New);
    assert_eq!(t.last_event_id(), Some(&1));
    assert_eq!(t.window(), vec![3, 4, 1]);
    t.reset();
    assert_eq!(t.last_event_id(), None);
    assert_eq!(t.record_event(&3), Recorded::New, "a restart forgets every id");
}

fn sse_scenarios() -> Vec<(PathBuf, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios");
    let mut out: Vec<(PathBuf, String)> = std::fs::read_dir(dir)
        .expect("scenarios/ exists")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("readable");
            (p, text)
        })
        .filter(|(_, text)| text.contains("model = \"sse\""))
        .collect();
    out.sort();
    out
}

/// The scenario's text with `[sse] window` set to `kind`.
fn with_window(text: &str, kind: &str) -> String {
    let mut out = String::with_capacity(text.len() + 32);
    let mut in_sse = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            in_sse = trimmed.starts_with("[sse]");
        }
        if in_sse && trimmed.starts_with("window") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
        if trimmed.starts_with("[sse]") {
            out.push_str(&format!("window = \"{kind}\"\n"));
        }
    }
    out
}

#[test]
fn every_scenario_runs_identically_with_either_window() {
    let files = sse_scenarios();
    assert!(files.len() >= 6, "the SSE scenarios are found");
    for (path, text) in files {
        let name = path.display().to_string();
        assert!(text.contains("[sse]"), "{name} has an [sse] section to switch");
        let linear = Scenario::parse(&Registry::builtin(), &name, &with_window(&text, "linear"))
            .unwrap_or_else(|e| panic!("{e}"));
        let indexed = Scenario::parse(&Registry::builtin(), &name, &with_window(&text, "indexed"))
            .unwrap_or_else(|e| panic!("{e}"));
        for variant in &linear.variants {
            let mut a = Sim::new(&linear, variant).expect("builds");
            let mut b = Sim::new(&indexed, variant).expect("builds");
            for seed in linear.seeds.clone().take(25) {
                let (oa, ob) = (a.seed(seed), b.seed(seed));
                assert_eq!(oa, ob, "{name} / {variant} / seed {seed}: the windows disagree");
            }
        }
    }
}
