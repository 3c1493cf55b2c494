//! Exhaustive exploration: it counts exactly the tapes a scenario has, works for any model,
//! says when its bound cut the search, and proves small fixed variants of the tasks
//! scenarios: "all N tapes pass", where random seeds could only sample.

use bevy_app::App;
use bevy_ecs::prelude::*;
use racelab::engine::model::{Model, ModelConfig, StepDoc, VariantDoc};
use racelab::engine::schedule::{SetupSchedule, SetupStage};
use racelab::explore::exhaustive::{Bounds, explore};
use racelab::prelude::*;

/// A model that is nothing but a choice tree: `a` of 3; after a = 0 also `b` of 2; after
/// a = 1 a "choice" of 1, which is no choice. So 4 tapes: a0 b0, a0 b1, a1, a2.
struct Tree;

fn tree_setup(mut engine: ResMut<Engine>) {
    match engine.tape.choose("a", 3) {
        0 => {
            engine.tape.choose("b", 2);
        }
        1 => {
            engine.tape.choose("c", 1);
        }
        _ => {}
    }
}

impl Model for Tree {
    fn name(&self) -> &'static str {
        "tree"
    }
    fn about(&self) -> &'static str {
        "a bare choice tree"
    }
    fn steps(&self) -> &'static [StepDoc] {
        &[]
    }
    fn variant_docs(&self, _: Option<&Scenario>) -> Vec<VariantDoc> {
        vec![VariantDoc { name: "only".into(), about: String::new() }]
    }
    fn invariants(&self, _: Option<&Scenario>) -> Vec<String> {
        Vec::new()
    }
    fn configure(&self, _: &Scenario) -> Result<ModelConfig, ScenarioError> {
        Ok(ModelConfig::none())
    }
    fn install(&self, app: &mut App, _: &Scenario, _: &str) -> Result<(), ScenarioError> {
        app.add_systems(SetupSchedule, tree_setup.in_set(SetupStage::Model));
        Ok(())
    }
}

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

fn tiny() -> Scenario {
    Scenario::parse(&Registry::builtin(), "tiny.toml", TINY).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn counts_every_tape_of_any_model() {
    let scenario = tiny();
    let mut sim = Sim::with_model(&Tree, &scenario, "only").unwrap_or_else(|e| panic!("{e}"));
    let report = explore(&mut sim, Bounds::default());
    assert_eq!(report.tapes, 4, "{report}");
    assert!(report.complete());
    assert_eq!(report.to_string(), "all 4 tapes pass (search complete; deepest run made 2 choices)");
}

#[test]
fn counts_every_interleaving_and_timing_of_two_tasks() {
    // Tick 0: both tasks are ready, the tape picks which runs first (2). Each sleeps 1..2 and
    // 1..3 ticks (2 x 3 timings). When both wake on the same tick (1,1 or 2,2) the tape picks
    // again (2). Per first pick: 4 timings without a tie + 2 ties x 2 = 8; in all 16.
    let scenario = tiny();
    let mut sim = Sim::new(&scenario, "default").unwrap_or_else(|e| panic!("{e}"));
    let report = explore(&mut sim, Bounds::default());
    assert!(report.complete(), "{report}");
    assert_eq!(report.tapes, 16, "{report}");
}

#[test]
fn says_when_the_bound_cut_the_search() {
    let scenario = tiny();
    let mut sim = Sim::with_model(&Tree, &scenario, "only").unwrap_or_else(|e| panic!("{e}"));
    let report = explore(&mut sim, Bounds { max_tapes: 2, max_depth: 10 });
    assert!(report.tapes_cut && !report.complete());
    assert_eq!(report.tapes, 2);
    assert!(report.to_string().contains("the bound cut the search"), "{report}");
    assert!(report.to_string().contains("limit of 2 tapes"), "{report}");

    // Depth 1: `b` is never branched, so a0 (b calm), a1, a2.
    let report = explore(&mut sim, Bounds { max_tapes: 100, max_depth: 1 });
    assert_eq!((report.tapes, report.depth_cut), (3, 1), "{report}");
    assert!(report.to_string().contains("1 run made more than 1 choices"), "{report}");
}

/// A shipped scenario with every window narrowed to its start (`[a, b]` -> `a`), so what is
/// left to choose is the order of tasks that are ready together, and what a call's transit
/// failure may do: the interleavings.
fn fixed_timing(file: &str) -> Scenario {
    let path = format!("{}/scenarios/{file}.toml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut out = String::new();
    for line in text.lines() {
        let narrowed = match (line.find("= ["), line.find(']')) {
            (Some(open), Some(close))
                if ["start", "latency"].iter().any(|k| line.trim_start().starts_with(k)) && open < close =>
            {
                let inner = &line[open + 3..close];
                let lo = inner.split(',').next().unwrap_or("0").trim();
                format!("{}= {lo}{}", &line[..open], &line[close + 1..])
            }
            _ => line.to_owned(),
        };
        out.push_str(&narrowed);
        out.push('\n');
    }
    Scenario::parse(&Registry::builtin(), &path, &out).unwrap_or_else(|e| panic!("{e}"))
}

fn explore_variant(scenario: &Scenario, variant: &str) -> racelab::explore::exhaustive::Report {
    let mut sim = Sim::new(scenario, variant).unwrap_or_else(|e| panic!("{e}"));
    sim.trace_level(TraceLevel::Off);
    explore(&mut sim, Bounds::default())
}

#[test]
fn strikes_fixes_pass_every_interleaving_and_the_bug_is_found() {
    let scenario = fixed_timing("strikes_lost_increment");
    // All three handlers are ready at tick 0 (3 x 2 orders to call the colour API) and all
    // three replies land on tick 2 (3 x 2 orders again). With the lock, its queue decides
    // the rest: 36 tapes. Without it the three persist calls also reply together, on tick 4,
    // which is a third round of 3 x 2 orders: 216 tapes.
    let locked = explore_variant(&scenario, "locked");
    assert!(locked.complete(), "{locked}");
    assert_eq!(locked.to_string(), "all 36 tapes pass (search complete; deepest run made 4 choices)");
    let adjacent = explore_variant(&scenario, "getattr_setattr");
    assert!(adjacent.complete(), "{adjacent}");
    assert_eq!(adjacent.tapes, 216, "{adjacent}");
    let bug = explore_variant(&scenario, "await_between");
    let fail = bug.failure.as_ref().unwrap_or_else(|| panic!("the lost increment is found: {bug}"));
    assert_eq!(fail.outcome.verdict.failed_check(), Some("no_lost_strike"));
    // The failing tape replays to the same verdict.
    let mut sim = Sim::new(&scenario, "await_between").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sim.tape(fail.tape.clone()).verdict, fail.outcome.verdict);
}

#[test]
fn lock_order_fixes_pass_every_interleaving_and_the_cycle_is_found() {
    let scenario = fixed_timing("config_lock_order_deadlock");
    for variant in ["fixed_hierarchy", "no_nesting"] {
        let r = explore_variant(&scenario, variant);
        assert!(r.complete(), "{variant}: {r}");
        assert!(r.to_string().starts_with(&format!("all {} tapes pass", r.tapes)), "{r}");
    }
    let bug = explore_variant(&scenario, "opposite_orders");
    let fail = bug.failure.as_ref().unwrap_or_else(|| panic!("the deadlock is found: {bug}"));
    assert_eq!(fail.outcome.verdict.failed_check(), Some("deadlock"));
}

#[test]
fn single_flight_passes_every_tape_with_its_timing_windows() {
    // The file as shipped: three bots starting anywhere in [0, 6], every latency in [1, 4].
    // Calls are envelopes on the wire: the agenda orders what is due together, which leaves
    // fewer distinct tapes than the runtime's own queue did (10404 before).
    let path = format!("{}/scenarios/token_refresh_race.toml", env!("CARGO_MANIFEST_DIR"));
    let scenario = Scenario::load(&Registry::builtin(), &path).unwrap_or_else(|e| panic!("{e}"));
    let r = explore_variant(&scenario, "single_flight");
    assert_eq!(r.to_string(), "all 8064 tapes pass (search complete; deepest run made 7 choices)");
    let bug = explore_variant(&scenario, "unsynchronised");
    assert_eq!(bug.failure.as_ref().and_then(|f| f.outcome.verdict.failed_check()), Some("task_failed"), "{bug}");
}
